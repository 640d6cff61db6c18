import { createHash } from "node:crypto";
import { writeFileDurably } from "./durable_file.ts";
import type { CommitInfo, HistoryStore } from "./history.ts";
import { isSingleAddress, type MailSender, type SendOutcome } from "./mail_sender.ts";

const encoder = new TextEncoder();

/** A mail as a compose function makes it from one commit. */
export interface ComposedMail {
  /** Unique per (commit, recipient), or per (board, day) for a digest. */
  idempotencyKey: string;
  /** The commit that caused it; for a digest the newest commit in it. */
  commit: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** The board whose contact address receives it; such mails can go into a daily digest. */
  board?: string;
}

/**
 * Where a mail stands: `local` is kept in the outbox only (no mail backend),
 * `pending` waits for its next attempt, `sent` was accepted by the backend,
 * `failed` will not be tried again, for `reason`.
 */
export interface MailDelivery {
  status: "local" | "pending" | "sent" | "failed";
  attempts: number;
  nextAttemptAt?: string;
  /** The backend's id of the sent mail. */
  providerId?: string;
  sentAt?: string;
  /** Why the last attempt failed. */
  reason?: string;
}

/** A mail as the outbox keeps it, with its delivery state. */
export interface OutboxMail extends ComposedMail {
  createdAt: string;
  delivery: MailDelivery;
}

/** The board mails of one Europe/Amsterdam day, bundled into one digest. */
export interface DigestBucket<M extends ComposedMail = ComposedMail> {
  board: string;
  /** `YYYY-MM-DD` in Europe/Amsterdam. */
  day: string;
  mails: M[];
}

/** How failed attempts are retried: exponential backoff with jitter, bounded. */
export interface RetryPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
  maxAttempts: number;
  /** The longest Retry-After the outbox honours. */
  maxRetryAfterMs: number;
}

/** Options of {@link openOutbox}. */
export interface OutboxOptions<S, M extends ComposedMail = ComposedMail> {
  /** The folder of the outbox; created when missing. */
  dir: string;
  store: HistoryStore<S>;
  /** The mails one commit causes, composed against the current state. */
  compose: (commit: CommitInfo, state: S) => M[];
  /** Sends mails; without it they are kept in the outbox only. */
  sender?: MailSender;
  retry?: Partial<RetryPolicy>;
  /** Bundle board mails into one digest per board per day, composed by this function. */
  digest?: (bucket: DigestBucket<M>) => M;
  now?: () => Date;
  /** A number in [0, 1) for jitter. */
  random?: () => number;
}

export interface Outbox {
  /** Processes every commit after the cursor, then delivers what is due; safe at any time. */
  catchUp(): Promise<void>;
  /** Sends every pending mail whose next attempt is due. */
  deliver(): Promise<void>;
  /** The mails in the outbox, newest first. */
  list(): Promise<OutboxMail[]>;
  /** Stops the timers and waits for a running delivery. */
  close(): Promise<void>;
}

const DEFAULT_RETRY: RetryPolicy = {
  baseDelayMs: 2_000,
  maxDelayMs: 10 * 60_000,
  maxAttempts: 10,
  maxRetryAfterMs: 60 * 60_000,
};
const DIGEST_TICK_MS = 60_000;
const AMSTERDAM_DAY = new Intl.DateTimeFormat("en-CA", {
  timeZone: "Europe/Amsterdam",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
});

/**
 * A mail outbox derived from the history by a cursor: it remembers the last
 * commit it processed and, after a restart, catches up from there. Each mail
 * is one file named by its idempotency key, written before the cursor moves
 * and rewritten durably after every delivery attempt. A crash between commit
 * and send therefore loses nothing, and a resend after a crash carries the
 * same idempotency key, so the backend delivers it once.
 */
export async function openOutbox<S, M extends ComposedMail>(
  options: OutboxOptions<S, M>,
): Promise<Outbox> {
  const outbox = new MailOutbox(options);
  await outbox.open();
  return outbox;
}

class MailOutbox<S, M extends ComposedMail> implements Outbox {
  #options: OutboxOptions<S, M>;
  #retry: RetryPolicy;
  #now: () => Date;
  #random: () => number;
  #dir: string;
  #pending = new Map<string, OutboxMail>();
  #running: Promise<void> = Promise.resolve();
  #delivering: Promise<void> | null = null;
  #deliverAgain = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #digestTimer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(options: OutboxOptions<S, M>) {
    this.#options = options;
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#now = options.now ?? (() => new Date());
    this.#random = options.random ?? Math.random;
    this.#dir = options.dir;
  }

  async open(): Promise<void> {
    await Deno.mkdir(`${this.#dir}/digests`, { recursive: true });
    for (const mail of await this.list()) {
      if (mail.delivery.status === "pending") this.#pending.set(mail.idempotencyKey, mail);
    }
    this.#options.store.onAppend(() => void this.catchUp());
    if (this.#options.digest) {
      const tick = setInterval(() => void this.catchUp(), DIGEST_TICK_MS);
      Deno.unrefTimer(tick);
      this.#digestTimer = tick;
    }
    await this.catchUp();
  }

  catchUp(): Promise<void> {
    const step = () => this.#processCommits().then(() => this.#closeDigests());
    this.#running = this.#running.then(step, step);
    const done = this.#running;
    void done.then(() => this.deliver(), () => undefined);
    return done;
  }

  deliver(): Promise<void> {
    if (!this.#options.sender || this.#closed) return Promise.resolve();
    if (this.#delivering) {
      this.#deliverAgain = true;
      return this.#delivering;
    }
    this.#delivering = this.#deliverLoop().finally(() => {
      this.#delivering = null;
      this.#schedule();
    });
    return this.#delivering;
  }

  async list(): Promise<OutboxMail[]> {
    const mails: OutboxMail[] = [];
    for await (const entry of Deno.readDir(this.#dir)) {
      if (!entry.isFile || !entry.name.endsWith(".json")) continue;
      mails.push(withDelivery(JSON.parse(await Deno.readTextFile(`${this.#dir}/${entry.name}`))));
    }
    return mails.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearInterval(this.#digestTimer);
    await this.#running.catch(() => undefined);
    await this.#delivering?.catch(() => undefined);
  }

  async #processCommits(): Promise<void> {
    const { store } = this.#options;
    const head = store.head();
    if (head === null) return;
    const cursorFile = `${this.#dir}/cursor`;
    const cursor = await readCursor(cursorFile);
    if (cursor === head) return;
    for (const commit of await commitsAfter(store, head, cursor)) {
      for (const mail of this.#options.compose(commit, store.state)) {
        if (this.#options.digest && mail.board !== undefined) {
          await this.#addToDigest(mail, mail.board, amsterdamDay(commit.author.at));
        } else {
          await this.#enqueue(mail);
        }
      }
      await writeFileDurably(cursorFile, encoder.encode(`${commit.oid}\n`));
    }
  }

  async #enqueue(mail: ComposedMail): Promise<void> {
    const file = this.#mailFile(mail.idempotencyKey);
    if (await exists(file)) return;
    const delivery: MailDelivery = this.#options.sender
      ? { status: "pending", attempts: 0, nextAttemptAt: this.#now().toISOString() }
      : { status: "local", attempts: 0 };
    const stored: OutboxMail = { ...mail, createdAt: this.#now().toISOString(), delivery };
    await writeJson(file, stored);
    if (delivery.status === "pending") this.#pending.set(stored.idempotencyKey, stored);
  }

  async #addToDigest(mail: M, board: string, commitDay: string): Promise<void> {
    let bucket = await readBucket<M>(this.#bucketFile(board, commitDay));
    if (bucket?.closed) {
      const today = amsterdamDay(this.#now());
      bucket = await readBucket<M>(this.#bucketFile(board, today)) ??
        { board, day: today, mails: [], closed: false };
    }
    bucket ??= { board, day: commitDay, mails: [], closed: false };
    if (bucket.mails.some((item) => item.idempotencyKey === mail.idempotencyKey)) return;
    bucket.mails.push(mail);
    await writeJson(this.#bucketFile(board, bucket.day), bucket);
  }

  async #closeDigests(): Promise<void> {
    const compose = this.#options.digest;
    if (!compose) return;
    const today = amsterdamDay(this.#now());
    for await (const entry of Deno.readDir(`${this.#dir}/digests`)) {
      if (!entry.isFile || !entry.name.endsWith(".json")) continue;
      const file = `${this.#dir}/digests/${entry.name}`;
      const bucket = await readBucket<M>(file);
      if (!bucket || bucket.closed || bucket.day >= today || bucket.mails.length === 0) continue;
      await this.#enqueue(compose({ board: bucket.board, day: bucket.day, mails: bucket.mails }));
      await writeJson(file, { ...bucket, closed: true });
    }
  }

  async #deliverLoop(): Promise<void> {
    do {
      this.#deliverAgain = false;
      const due = [...this.#pending.values()]
        .filter((mail) => Date.parse(mail.delivery.nextAttemptAt ?? "") <= this.#now().getTime());
      for (const mail of due) {
        if (this.#closed) return;
        await this.#attempt(mail);
      }
    } while (this.#deliverAgain && !this.#closed);
  }

  async #attempt(mail: OutboxMail): Promise<void> {
    const attempts = mail.delivery.attempts + 1;
    const outcome: SendOutcome = isSingleAddress(mail.to)
      ? await this.#send(mail)
      : { status: "permanent", reason: `"${mail.to}" is not one valid e-mail address` };
    const delivery = this.#next(outcome, attempts);
    const updated: OutboxMail = { ...mail, delivery };
    await writeJson(this.#mailFile(mail.idempotencyKey), updated);
    if (delivery.status === "pending") this.#pending.set(mail.idempotencyKey, updated);
    else this.#pending.delete(mail.idempotencyKey);
  }

  async #send(mail: OutboxMail): Promise<SendOutcome> {
    try {
      return await this.#options.sender!.send({
        idempotencyKey: mail.idempotencyKey,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
      });
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return { status: "transient", reason: `Sending failed: ${reason}` };
    }
  }

  #next(outcome: SendOutcome, attempts: number): MailDelivery {
    const at = this.#now();
    if (outcome.status === "sent") {
      return { status: "sent", attempts, providerId: outcome.id, sentAt: at.toISOString() };
    }
    if (outcome.status === "permanent") {
      return { status: "failed", attempts, reason: outcome.reason };
    }
    if (attempts >= this.#retry.maxAttempts) {
      return {
        status: "failed",
        attempts,
        reason: `Gave up after ${attempts} attempts; the last: ${outcome.reason}`,
      };
    }
    const wait = Math.max(this.#backoff(attempts), this.#retryAfter(outcome.retryAfterMs));
    return {
      status: "pending",
      attempts,
      reason: outcome.reason,
      nextAttemptAt: new Date(at.getTime() + wait).toISOString(),
    };
  }

  /** Exponential, capped, with "equal jitter": half fixed, half random. */
  #backoff(attempts: number): number {
    const { baseDelayMs, maxDelayMs } = this.#retry;
    const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempts - 1));
    return delay / 2 + this.#random() * delay / 2;
  }

  #retryAfter(retryAfterMs: number | undefined): number {
    return Math.min(retryAfterMs ?? 0, this.#retry.maxRetryAfterMs);
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    if (this.#closed || this.#pending.size === 0) return;
    const next = Math.min(
      ...[...this.#pending.values()].map((mail) => Date.parse(mail.delivery.nextAttemptAt ?? "")),
    );
    const wait = Math.max(0, next - this.#now().getTime());
    const timer = setTimeout(() => void this.deliver(), Math.min(wait, 2 ** 31 - 1));
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  #mailFile(idempotencyKey: string): string {
    return `${this.#dir}/mail-${digest(idempotencyKey)}.json`;
  }

  #bucketFile(board: string, day: string): string {
    return `${this.#dir}/digests/${digest(board)}-${day}.json`;
  }
}

interface StoredBucket<M extends ComposedMail> extends DigestBucket<M> {
  closed: boolean;
}

/** The Europe/Amsterdam calendar day of `at`, as `YYYY-MM-DD`. */
export function amsterdamDay(at: Date): string {
  return AMSTERDAM_DAY.format(at);
}

function withDelivery(mail: OutboxMail): OutboxMail {
  return mail.delivery
    ? mail
    : { ...mail, html: mail.html ?? "", delivery: { status: "local", attempts: 0 } };
}

async function commitsAfter<S>(
  store: HistoryStore<S>,
  head: string,
  cursor: string | null,
): Promise<CommitInfo[]> {
  const newestFirst: CommitInfo[] = [];
  let from: string | undefined = head;
  while (from) {
    const page = await store.log({ from, limit: 200 });
    for (const commit of page) {
      if (commit.oid === cursor) return newestFirst.reverse();
      newestFirst.push(commit);
    }
    from = page.length === 200 ? page[199]!.parents[0] : undefined;
  }
  return newestFirst.reverse();
}

async function readCursor(file: string): Promise<string | null> {
  try {
    return (await Deno.readTextFile(file)).trim() || null;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

async function readBucket<M extends ComposedMail>(file: string): Promise<StoredBucket<M> | null> {
  try {
    return JSON.parse(await Deno.readTextFile(file));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

function writeJson(file: string, value: unknown): Promise<void> {
  return writeFileDurably(file, encoder.encode(JSON.stringify(value, null, 2)));
}

async function exists(file: string): Promise<boolean> {
  try {
    await Deno.stat(file);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function digest(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 32);
}
