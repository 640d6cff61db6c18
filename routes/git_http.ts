/**
 * The history repository over Git's smart HTTP protocol (gitprotocol-http),
 * read-only: `git clone`, `git fetch` and `git ls-remote` work, pushing is
 * refused. Mounted at `/history.git`; every request must authenticate.
 */
import { type Context, Hono } from "hono";
import type { HistoryStore } from "../store/history.ts";
import { PackCache } from "../store/pack_cache.ts";
import type { PackLog } from "../store/pack_log.ts";
import {
  advertisement,
  type ProtocolVersion,
  type Snapshot,
  uploadPack,
  type UploadPackLimits,
} from "../store/upload_pack.ts";

/** Bounds on the work one request may cause. */
export interface GitHttpLimits extends UploadPackLimits {
  /** Largest request body, after gzip decompression and before it. */
  maxBodyBytes: number;
  /** Milliseconds a request may take, pack streaming included. */
  timeLimitMs: number;
  /** Milliseconds the whole request body may take to arrive (within `timeLimitMs`). */
  bodyTimeLimitMs: number;
}

/** Options of {@link createGitHttp}. */
export interface GitHttpOptions {
  store: HistoryStore<unknown>;
  /** Whether the request carries valid credentials (HTTP Basic from git). */
  authenticate: (c: Context) => Promise<boolean>;
  limits?: Partial<GitHttpLimits>;
  /** Prepared pack entries; one is made from `store` and `packLog` when absent. */
  cache?: PackCache;
  /**
   * Where prepared pack entries are kept (a file under the data directory
   * keeps them across restarts). Default: in memory, prepared again after
   * each start.
   */
  packLog?: PackLog;
  /**
   * Prepare pack entries now and after every append, so that the first
   * clone does not wait for them. Default false (prepared on first fetch).
   */
  warm?: boolean;
}

/** The limits used where {@link GitHttpOptions.limits} says nothing. */
export const DEFAULT_GIT_HTTP_LIMITS: GitHttpLimits = {
  maxBodyBytes: 1 << 20,
  maxWants: 256,
  maxHaves: 4096,
  maxShallows: 256,
  timeLimitMs: 300_000,
  bodyTimeLimitMs: 30_000,
};

const NO_CACHE = {
  "Cache-Control": "no-cache, max-age=0, must-revalidate",
  "Expires": "Fri, 01 Jan 1980 00:00:00 GMT",
  "Pragma": "no-cache",
};
const READ_ONLY = "The Akkoord history is read-only: pushing to it is not possible.\n";
const DUMB = "Akkoord serves Git's smart HTTP protocol only; use git 1.6.6 or newer.\n";

/** Thrown while reading a request body that cannot be accepted. */
class BodyRefusal extends Error {
  status: 400 | 408 | 413 | 415;

  constructor(status: 400 | 408 | 413 | 415, message: string) {
    super(message);
    this.status = status;
  }
}

/** The smart HTTP routes of the history repository. */
export function createGitHttp(options: GitHttpOptions): Hono {
  const limits = { ...DEFAULT_GIT_HTTP_LIMITS, ...options.limits };
  const cache = options.cache ?? new PackCache(options.store, { log: options.packLog });
  if (options.warm) {
    // Warming ahead is an optimisation only: a failed warm-up leaves the
    // cache behind, and the next fetch syncs it again and reports any error.
    const warm = (head: string | null) => void cache.sync(head).catch(() => undefined);
    warm(options.store.head());
    options.store.onAppend(warm);
  }
  const app = new Hono();

  app.use("*", async (c, next) => {
    if (await options.authenticate(c)) return await next();
    return c.text("Authentication is required to read the Akkoord history.\n", 401, {
      "WWW-Authenticate": 'Basic realm="Akkoord history"',
    });
  });

  app.get("/info/refs", (c) => {
    const service = c.req.query("service");
    if (service === "git-receive-pack") return c.text(READ_ONLY, 403);
    if (service !== "git-upload-pack") return c.text(DUMB, 403);
    const version = protocolVersion(c.req.header("Git-Protocol"));
    return new Response(advertisement(options.store.head(), version), {
      headers: { "Content-Type": "application/x-git-upload-pack-advertisement", ...NO_CACHE },
    });
  });

  app.post("/git-receive-pack", (c) => c.text(READ_ONLY, 403));

  app.post("/git-upload-pack", async (c) => {
    const deadline = Date.now() + limits.timeLimitMs;
    if (c.req.header("Content-Type") !== "application/x-git-upload-pack-request") {
      return c.text("Expected Content-Type application/x-git-upload-pack-request.\n", 415);
    }
    let body: Uint8Array;
    try {
      const within = Math.min(limits.bodyTimeLimitMs, deadline - Date.now());
      body = await readBody(c.req.raw, limits.maxBodyBytes, within);
    } catch (error) {
      if (error instanceof BodyRefusal) return c.text(`${error.message}\n`, error.status);
      throw error;
    }
    const snapshot: Snapshot = { head: options.store.head(), cache };
    await cache.sync(snapshot.head);
    const version = protocolVersion(c.req.header("Git-Protocol"));
    const chunks = uploadPack(body, snapshot, version, { ...limits, deadline });
    return new Response(toStream(chunks), {
      headers: { "Content-Type": "application/x-git-upload-pack-result", ...NO_CACHE },
    });
  });

  app.all("*", (c) => c.text(DUMB, 404));
  return app;
}

function protocolVersion(header: string | undefined): ProtocolVersion {
  const versions = (header ?? "").split(":")
    .filter((part) => part.startsWith("version="))
    .map((part) => part.slice(8));
  if (versions.includes("2")) return 2;
  if (versions.includes("1")) return 1;
  return 0;
}

/**
 * Reads the request body, inflating `Content-Encoding: gzip`, and refuses
 * it once more than `max` bytes arrive on either side of the inflater, or
 * when it has not all arrived within `withinMs` milliseconds.
 */
async function readBody(request: Request, max: number, withinMs: number): Promise<Uint8Array> {
  if (request.body === null) return new Uint8Array();
  const encoding = (request.headers.get("Content-Encoding") ?? "identity").toLowerCase();
  const tooLarge = () => new BodyRefusal(413, `The request body exceeds ${max} bytes.`);
  let received = 0;
  let stream: ReadableStream<Uint8Array<ArrayBuffer>> = request.body.pipeThrough(
    new TransformStream<Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>>({
      transform(chunk, controller) {
        received += chunk.length;
        if (received > max) controller.error(tooLarge());
        else controller.enqueue(chunk);
      },
    }),
  );
  if (encoding === "gzip" || encoding === "x-gzip") {
    stream = stream.pipeThrough(new DecompressionStream("gzip"));
  } else if (encoding !== "identity") {
    throw new BodyRefusal(415, `Content-Encoding "${encoding.slice(0, 40)}" is not supported.`);
  }
  const parts: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  const late = new BodyRefusal(
    408,
    `The request body did not arrive within ${Math.ceil(withinMs / 1000)} seconds.`,
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late), Math.max(0, withinMs));
  });
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), timeout]);
      if (done) break;
      size += value.length;
      if (size > max) throw tooLarge();
      parts.push(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    if (error instanceof BodyRefusal) throw error;
    if (received > max) throw tooLarge();
    const what = encoding === "identity" ? "read" : "inflated";
    throw new BodyRefusal(400, `The request body could not be ${what}.`);
  } finally {
    clearTimeout(timer);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    body.set(part, at);
    at += part.length;
  }
  return body;
}

function toStream(chunks: AsyncGenerator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
}
