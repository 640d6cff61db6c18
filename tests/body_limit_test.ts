import assert from "node:assert/strict";
import { FORM_BODY_BYTES } from "../routes/body_limit.ts";
import { OFFER_FORM_LIMITS } from "../routes/offer_form.ts";
import { BOARD_REGISTRY_LIMITS } from "../routes/board_registry_ui.ts";
import { API_LIMITS } from "../routes/api_schemas.ts";
import { BOARD, withService } from "./helpers/board_flow.ts";
import { Browser } from "./helpers/service.ts";
import { withTestStore } from "./helpers/test_store.ts";

const CHUNK_BYTES = 64 * 1024;
const PARAMETERS: Record<string, string> = {
  board: BOARD.id,
  supplier: "99000001",
  thumbprint: "x".repeat(43),
  id: "x",
};

/** A form body of `total` bytes (at least the first field) that arrives in chunks, without a Content-Length. */
function chunkedForm(total: number): ReadableStream<Uint8Array> {
  const chunk = new TextEncoder().encode("x".repeat(CHUNK_BYTES));
  let pulled = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= total) return controller.close();
      const part = pulled === 0
        ? new TextEncoder().encode("_csrf=bogus&x=")
        : chunk.subarray(0, total - pulled);
      pulled += part.length;
      controller.enqueue(part);
    },
  });
}

async function postChunked(
  url: string,
  bytes: number,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
    body: chunkedForm(bytes),
  });
  return { status: response.status, text: await response.text() };
}

function concretePath(pattern: string): string {
  return pattern.replace(/:(\w+)/g, (_, name: string) => PARAMETERS[name] ?? "x");
}

/** The limit a page POST route must hold its body to. */
function pageLimit(path: string): number {
  if (/^\/suppliers\/[^/]+\/offer(\/|$)/.test(path)) return OFFER_FORM_LIMITS.bodyBytes;
  if (/^\/admin\/besturen(\/|$)/.test(path)) return BOARD_REGISTRY_LIMITS.bodyBytes;
  return FORM_BODY_BYTES;
}

Deno.test("every state-changing page route refuses a chunked body over its limit with a Dutch 413 page", () =>
  withService(async (service) => {
    const routes = service.server.routes.filter((route) =>
      ["POST", "PUT", "PATCH", "DELETE"].includes(route.method) &&
      !route.path.startsWith("/api/") && !route.path.startsWith("/history.git") &&
      route.path !== "/oauth/token"
    );
    const paths = routes.map((route) => route.path);
    for (
      const expected of [
        "/logout",
        "/logout/everywhere",
        "/dev-broker/authorize",
        "/dev-broker/token",
        "/tokens",
        "/suppliers/:supplier/keys",
        "/boards/:board/invite",
        "/boards/:board/notifications",
        "/boards/:board/agreements/:supplier/reject",
        "/boards/:board/agreements/:supplier/sign",
        "/boards/:board/terms",
        "/suppliers/:supplier/offer",
        "/admin/leveranciers",
      ]
    ) {
      assert.ok(paths.includes(expected), `route ${expected} is listed`);
    }
    for (const route of routes) {
      const path = concretePath(route.path);
      const limit = pageLimit(path);
      const refused = await postChunked(`${service.url}${path}`, limit + CHUNK_BYTES, {
        Origin: service.url,
      });
      assert.equal(refused.status, 413, `${route.method} ${route.path}`);
      assert.match(refused.text, /Foutcode 413/, route.path);
      assert.match(refused.text, /te groot/, route.path);
      assert.doesNotMatch(refused.text, /niet goed ingevuld/, route.path);
    }

    const unknown = await postChunked(`${service.url}/nergens`, 2 * FORM_BODY_BYTES);
    assert.equal(unknown.status, 413, "a path without a route is bounded too");

    const small = await postChunked(`${service.url}/boards/${BOARD.id}/invite`, 1024, {
      Origin: service.url,
    });
    assert.equal(small.status, 403, "a small body still reaches the CSRF guard");
  }));

Deno.test("the API, the token endpoint and the history bound chunked bodies themselves", () =>
  withService(async (service) => {
    const api = await postChunked(`${service.url}/api/v1/offers`, API_LIMITS.bodyBytes + 1, {
      "Content-Type": "application/json",
    });
    assert.equal(api.status, 413);
    assert.equal(JSON.parse(api.text).type, "urn:akkoord:problem:body_too_large");

    const token = await postChunked(`${service.url}/oauth/token`, 64 * 1024);
    assert.equal(token.status, 400);
    assert.match(token.text, /the body is over 16384 bytes/);

    const git = await postChunked(`${service.url}/history.git/git-upload-pack`, 2 << 20, {
      "Content-Type": "application/x-git-upload-pack-request",
    });
    assert.ok(
      git.status === 401 || git.status === 413,
      `the history refuses before reading 2 MB: ${git.status}`,
    );
  }));

Deno.test("a 5 MB chunked body to a board form does not grow the server's memory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "akkoord-body-limit-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL("../main.ts", import.meta.url).pathname],
    env: {
      AKKOORD_DATA_DIR: dir,
      AKKOORD_PORT: "0",
      AKKOORD_HOSTNAME: "127.0.0.1",
      ...await withTestStore(dir, {}),
    },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    const url = await listeningUrl(child.stdout);
    const user = new Browser(url);
    await user.login({ organisation: BOARD.kvk, name: "Anna de Vries", mandates: ["beoordelen"] });
    const cookie = `akkoord_session=${user.cookie("akkoord_session")}`;
    for (let i = 0; i < 5; i++) {
      await user.page(`/boards/${BOARD.id}/invite`);
      await postChunked(`${url}/boards/${BOARD.id}/invite`, 32 * 1024, {
        Origin: url,
        Cookie: cookie,
      });
    }
    const before = peakMemoryKiB(child.pid);

    const refused = await postChunked(`${url}/boards/${BOARD.id}/invite`, 5 * 1024 * 1024, {
      Origin: url,
      Cookie: cookie,
    });

    const grown = peakMemoryKiB(child.pid) - before;
    assert.equal(refused.status, 413);
    assert.match(refused.text, /Het formulier is groter dan 64 kB en is niet verwerkt/);
    assert.ok(grown < 3 * 1024, `peak memory grew by ${grown} KiB`);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Reads the child's output up to its "listens on" line and returns its URL;
 * the rest of the output (request log lines) is read and dropped.
 */
async function listeningUrl(stdout: ReadableStream<Uint8Array>): Promise<string> {
  let seen = "";
  const decoder = new TextDecoder();
  const reader = stdout.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`The server did not start: ${seen}`);
    seen += decoder.decode(value, { stream: true });
    const url = /listens on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen)?.[1];
    if (url) {
      drain(reader);
      return url;
    }
  }
}

function drain(reader: ReadableStreamDefaultReader<Uint8Array>): void {
  reader.read().then(({ done }) => done ? undefined : drain(reader), () => undefined);
}

/** The peak resident memory (VmHWM) of a process, in KiB. */
function peakMemoryKiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`No VmHWM in /proc/${pid}/status`);
  return Number(kib);
}
