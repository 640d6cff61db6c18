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

/** Options of {@link openOutbox}: where on disk, and {@link OutboxSettings}. */
export interface OutboxOptions<S, M extends ComposedMail = ComposedMail>
  extends OutboxSettings<S, M> {
  /** The folder of the outbox; created when missing. */
  dir: string;
}

/** What an outbox does, whatever keeps its mails. */
export interface OutboxSettings<S, M extends ComposedMail = ComposedMail> {
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

/** A digest bucket as kept, with whether its digest mail was made. */
export interface StoredBucket<M extends ComposedMail> extends DigestBucket<M> {
  closed: boolean;
}

/**
 * Where an outbox keeps its mails, its cursor and its digest buckets. Every
 * mail is kept under its idempotency key and stored only when that key is
 * new, so storing it twice keeps the first.
 */
export interface OutboxStorage<M extends ComposedMail = ComposedMail> {
  /** Prepares the storage (e.g. creates folders). */
  open(): Promise<void>;
  /** The last commit processed, or null before the first. */
  readCursor(): Promise<string | null>;
  /**
   * Stores the mails whose keys are new and, with `cursor`, moves the cursor
   * from `cursor.from` to `cursor.to` after them (in the same atomic
   * operation where the backend has one). Resolves with the mails newly
   * stored, or null, storing nothing, when the cursor is no longer
   * `cursor.from` (another instance processed the commit).
   */
  store(
    mails: OutboxMail[],
    cursor?: { from: string | null; to: string },
  ): Promise<OutboxMail[] | null>;
  /** Every stored mail, in no particular order. */
  readMails(): Promise<OutboxMail[]>;
  /**
   * Replaces the delivery state of a stored mail whose state is still
   * `previous`; false, writing nothing, when it changed meanwhile.
   */
  updateDelivery(mail: OutboxMail, previous: MailDelivery): Promise<boolean>;
  /** The bucket of a board and day, or null. */
  readBucket(board: string, day: string): Promise<StoredBucket<M> | null>;
  /** Adds a mail to a bucket (created open when missing) unless its key is in it already. */
  addToBucket(board: string, day: string, mail: M): Promise<void>;
  /** Marks a bucket as closed: its digest mail was stored. */
  closeBucket(board: string, day: string): Promise<void>;
  /** The buckets not closed yet. */
  openBuckets(): Promise<StoredBucket<M>[]>;
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
  return await openOutboxIn(diskOutboxStorage<M>(options.dir), options);
}

/** Opens an outbox that keeps its mails in `storage`; see {@link openOutbox}. */
export async function openOutboxIn<S, M extends ComposedMail>(
  storage: OutboxStorage<M>,
  settings: OutboxSettings<S, M>,
): Promise<Outbox> {
  const outbox = new MailOutbox(storage, settings);
  await outbox.open();
  return outbox;
}

class MailOutbox<S, M extends ComposedMail> implements Outbox {
  #options: OutboxSettings<S, M>;
  #retry: RetryPolicy;
  #now: () => Date;
  #random: () => number;
  #storage: OutboxStorage<M>;
  #pending = new Map<string, OutboxMail>();
  #running: Promise<void> = Promise.resolve();
  #delivering: Promise<void> | null = null;
  #deliverAgain = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #digestTimer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(storage: OutboxStorage<M>, options: OutboxSettings<S, M>) {
    this.#options = options;
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#now = options.now ?? (() => new Date());
    this.#random = options.random ?? Math.random;
    this.#storage = storage;
  }

  async open(): Promise<void> {
    await this.#storage.open();
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
    // A closed outbox takes no more commits: mails it stored but could no
    // longer send would wait for the next restart.
    if (this.#closed) return Promise.resolve();
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
    const mails = (await this.#storage.readMails()).map(withDelivery);
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
    let cursor = await this.#storage.readCursor();
    while (cursor !== head) {
      const commits = await commitsAfter(store, head, cursor);
      if (commits.length === 0) return;
      for (const commit of commits) {
        const mails: OutboxMail[] = [];
        for (const mail of this.#options.compose(commit, store.state)) {
          if (this.#options.digest && mail.board !== undefined) {
            await this.#addToDigest(mail, mail.board, amsterdamDay(commit.author.at));
          } else {
            mails.push(this.#stored(mail));
          }
        }
        const stored = await this.#storage.store(mails, { from: cursor, to: commit.oid });
        if (stored === null) break;
        this.#track(stored);
        cursor = commit.oid;
      }
      cursor = await this.#storage.readCursor();
    }
  }

  #stored(mail: ComposedMail): OutboxMail {
    const delivery: MailDelivery = this.#options.sender
      ? { status: "pending", attempts: 0, nextAttemptAt: this.#now().toISOString() }
      : { status: "local", attempts: 0 };
    return { ...mail, createdAt: this.#now().toISOString(), delivery };
  }

  #track(stored: OutboxMail[]): void {
    for (const mail of stored) {
      if (mail.delivery.status === "pending") this.#pending.set(mail.idempotencyKey, mail);
    }
  }

  async #addToDigest(mail: M, board: string, commitDay: string): Promise<void> {
    let day = commitDay;
    if ((await this.#storage.readBucket(board, commitDay))?.closed) {
      day = amsterdamDay(this.#now());
    }
    await this.#storage.addToBucket(board, day, mail);
  }

  async #closeDigests(): Promise<void> {
    const compose = this.#options.digest;
    if (!compose) return;
    const today = amsterdamDay(this.#now());
    for (const bucket of await this.#storage.openBuckets()) {
      if (bucket.day >= today || bucket.mails.length === 0) continue;
      const digest = compose({ board: bucket.board, day: bucket.day, mails: bucket.mails });
      this.#track(await this.#storage.store([this.#stored(digest)]) ?? []);
      await this.#storage.closeBucket(bucket.board, bucket.day);
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
    // Another instance that tried this mail meanwhile owns its state now; the
    // provider's idempotency key keeps the mail from going out twice.
    const saved = await this.#storage.updateDelivery(updated, mail.delivery);
    if (saved && delivery.status === "pending") this.#pending.set(mail.idempotencyKey, updated);
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

/**
 * The outbox in a folder: one JSON file per mail named by its idempotency
 * key, the cursor in `cursor`, one file per digest bucket in `digests/`.
 * Every file is replaced durably; the mails of a commit are written before
 * the cursor moves past it.
 */
export function diskOutboxStorage<M extends ComposedMail>(dir: string): OutboxStorage<M> {
  const mailFile = (key: string) => `${dir}/mail-${digest(key)}.json`;
  const bucketFile = (board: string, day: string) => `${dir}/digests/${digest(board)}-${day}.json`;
  const cursorFile = `${dir}/cursor`;
  return {
    async open() {
      await Deno.mkdir(`${dir}/digests`, { recursive: true });
    },
    readCursor: () => readCursor(cursorFile),
    async store(mails, cursor) {
      if (cursor && await readCursor(cursorFile) !== cursor.from) return null;
      const stored: OutboxMail[] = [];
      for (const mail of mails) {
        if (await exists(mailFile(mail.idempotencyKey))) continue;
        await writeJson(mailFile(mail.idempotencyKey), mail);
        stored.push(mail);
      }
      if (cursor) await writeFileDurably(cursorFile, encoder.encode(`${cursor.to}\n`));
      return stored;
    },
    async readMails() {
      const mails: OutboxMail[] = [];
      for await (const entry of Deno.readDir(dir)) {
        if (!entry.isFile || !entry.name.endsWith(".json")) continue;
        mails.push(JSON.parse(await Deno.readTextFile(`${dir}/${entry.name}`)));
      }
      return mails;
    },
    async updateDelivery(mail) {
      await writeJson(mailFile(mail.idempotencyKey), mail);
      return true;
    },
    readBucket: (board, day) => readBucket<M>(bucketFile(board, day)),
    async addToBucket(board, day, mail) {
      const bucket = await readBucket<M>(bucketFile(board, day)) ??
        { board, day, mails: [], closed: false };
      if (bucket.mails.some((item) => item.idempotencyKey === mail.idempotencyKey)) return;
      bucket.mails.push(mail);
      await writeJson(bucketFile(board, day), bucket);
    },
    async closeBucket(board, day) {
      const bucket = await readBucket<M>(bucketFile(board, day));
      if (bucket) await writeJson(bucketFile(board, day), { ...bucket, closed: true });
    },
    async openBuckets() {
      const buckets: StoredBucket<M>[] = [];
      for await (const entry of Deno.readDir(`${dir}/digests`)) {
        if (!entry.isFile || !entry.name.endsWith(".json")) continue;
        const bucket = await readBucket<M>(`${dir}/digests/${entry.name}`);
        if (bucket && !bucket.closed) buckets.push(bucket);
      }
      return buckets;
    },
  };
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

/** A short SHA-256 of `text`, naming a mail or bucket by its key. */
export function digest(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 32);
}
