/// <reference lib="deno.unstable" />
/**
 * The mail outbox on Deno KV: one entry per mail keyed by its idempotency
 * key, the cursor moved in the same atomic operation as the mails of the
 * commit it passes, and delivery states replaced only when unchanged since
 * they were read. Keys lie under `["akkoord", "outbox"]`, apart from the
 * history's `["history"]`.
 */
import {
  type ComposedMail,
  digest,
  type MailDelivery,
  type OutboxMail,
  type OutboxStorage,
  type StoredBucket,
} from "./outbox.ts";
import { KV_LIMITS } from "./kv_objects.ts";
import { retryWhenLocked } from "./kv_retry.ts";

const CURSOR_KEY: Deno.KvKey = ["akkoord", "outbox", "cursor"];
// A commit whose mails exceed one atomic operation is stored in several;
// only the last moves the cursor. Mails already stored are skipped on a rerun.
const BATCH_MAILS = 500;
const BATCH_BYTES = 600_000;

function mailKey(idempotencyKey: string): Deno.KvKey {
  return ["akkoord", "outbox", "mails", digest(idempotencyKey)];
}

function bucketKey(board: string, day: string): Deno.KvKey {
  return ["akkoord", "outbox", "digests", board, day];
}

function bucketMailKey(board: string, day: string, idempotencyKey: string): Deno.KvKey {
  return ["akkoord", "outbox", "digest_mails", board, day, digest(idempotencyKey)];
}

/** What a bucket's own entry holds; its mails are entries of their own. */
interface BucketHead {
  closed: boolean;
  /** How many mails were added; orders them. */
  count: number;
}

/** The outbox kept in `kv`; see {@link OutboxStorage}. */
export function kvOutboxStorage<M extends ComposedMail>(kv: Deno.Kv): OutboxStorage<M> {
  return {
    open: () => Promise.resolve(),
    readCursor: () => readCursor(kv),
    store: (mails, cursor) => storeMails(kv, mails, cursor),
    async readMails() {
      const mails: OutboxMail[] = [];
      for await (const entry of kv.list<OutboxMail>({ prefix: ["akkoord", "outbox", "mails"] })) {
        mails.push(entry.value);
      }
      return mails;
    },
    updateDelivery: (mail, previous) => updateDelivery(kv, mail, previous),
    readBucket: (board, day) => readBucket<M>(kv, board, day),
    addToBucket: (board, day, mail) => addToBucket(kv, board, day, mail),
    async closeBucket(board, day) {
      await retryWhenLocked(async () => {
        const head = await kv.get<BucketHead>(bucketKey(board, day));
        if (head.value === null || head.value.closed) return;
        await kv.atomic().check(head).set(head.key, { ...head.value, closed: true }).commit();
      });
    },
    async openBuckets() {
      const buckets: StoredBucket<M>[] = [];
      for await (
        const entry of kv.list<BucketHead>({ prefix: ["akkoord", "outbox", "digests"] })
      ) {
        if (entry.value.closed) continue;
        const [, , , board, day] = entry.key;
        const bucket = await readBucket<M>(kv, String(board), String(day));
        if (bucket) buckets.push(bucket);
      }
      return buckets;
    },
  };
}

async function readCursor(kv: Deno.Kv): Promise<string | null> {
  const entry = await retryWhenLocked(() => kv.get<string>(CURSOR_KEY));
  return entry.value;
}

async function storeMails(
  kv: Deno.Kv,
  mails: OutboxMail[],
  cursor: { from: string | null; to: string } | undefined,
): Promise<OutboxMail[] | null> {
  const stored: OutboxMail[] = [];
  const batches = batchesOf(mails);
  for (const [index, batch] of batches.entries()) {
    const moves = cursor !== undefined && index === batches.length - 1;
    const result = await storeBatch(kv, batch, moves ? cursor : undefined);
    if (result === null) return null;
    stored.push(...result);
  }
  return stored;
}

function batchesOf(mails: OutboxMail[]): OutboxMail[][] {
  const batches: OutboxMail[][] = [[]];
  let bytes = 0;
  for (const mail of mails) {
    const size = JSON.stringify(mail).length;
    const last = batches.at(-1)!;
    if (last.length > 0 && (last.length >= BATCH_MAILS || bytes + size > BATCH_BYTES)) {
      batches.push([mail]);
      bytes = size;
    } else {
      last.push(mail);
      bytes += size;
    }
  }
  return batches;
}

// One atomic operation: the cursor (when it moves) is checked to be where the
// caller found it, and each new mail to be absent, so two instances never
// both store a mail or both move the cursor past one commit.
async function storeBatch(
  kv: Deno.Kv,
  mails: OutboxMail[],
  cursor: { from: string | null; to: string } | undefined,
): Promise<OutboxMail[] | null> {
  for (;;) {
    const keys = mails.map((mail) => mailKey(mail.idempotencyKey));
    const present = await existingKeys(kv, keys);
    const cursorEntry = cursor ? await retryWhenLocked(() => kv.get<string>(CURSOR_KEY)) : null;
    if (cursor && cursorEntry!.value !== cursor.from) return null;
    const fresh = mails.filter((_, i) => !present.has(i));
    const commit = () => {
      const operation = kv.atomic();
      if (cursorEntry) operation.check(cursorEntry).set(CURSOR_KEY, cursor!.to);
      for (const mail of fresh) {
        const key = mailKey(mail.idempotencyKey);
        operation.check({ key, versionstamp: null }).set(key, mail);
      }
      return operation.commit();
    };
    const result = await retryWhenLocked(commit).catch((error) => {
      throw new Error(
        `Cannot store ${fresh.length} mails in the Deno KV outbox: ${messageOf(error)}`,
      );
    });
    if (result.ok) return fresh;
  }
}

async function existingKeys(kv: Deno.Kv, keys: Deno.KvKey[]): Promise<Set<number>> {
  const present = new Set<number>();
  for (let start = 0; start < keys.length; start += KV_LIMITS.keysPerRead) {
    const slice = keys.slice(start, start + KV_LIMITS.keysPerRead);
    const entries = await retryWhenLocked(() => kv.getMany(slice));
    entries.forEach((entry, i) => {
      if (entry.versionstamp !== null) present.add(start + i);
    });
  }
  return present;
}

async function updateDelivery(
  kv: Deno.Kv,
  mail: OutboxMail,
  previous: MailDelivery,
): Promise<boolean> {
  const key = mailKey(mail.idempotencyKey);
  const entry = await retryWhenLocked(() => kv.get<OutboxMail>(key));
  if (entry.value === null || !sameDelivery(entry.value.delivery, previous)) return false;
  const result = await retryWhenLocked(() => kv.atomic().check(entry).set(key, mail).commit());
  return result.ok;
}

function sameDelivery(a: MailDelivery, b: MailDelivery): boolean {
  return a.status === b.status && a.attempts === b.attempts &&
    a.nextAttemptAt === b.nextAttemptAt;
}

async function readBucket<M extends ComposedMail>(
  kv: Deno.Kv,
  board: string,
  day: string,
): Promise<StoredBucket<M> | null> {
  const head = await retryWhenLocked(() => kv.get<BucketHead>(bucketKey(board, day)));
  if (head.value === null) return null;
  const items: Array<{ at: number; mail: M }> = [];
  const prefix = ["akkoord", "outbox", "digest_mails", board, day];
  for await (const entry of kv.list<{ at: number; mail: M }>({ prefix })) items.push(entry.value);
  items.sort((a, b) => a.at - b.at);
  return { board, day, closed: head.value.closed, mails: items.map((item) => item.mail) };
}

async function addToBucket<M extends ComposedMail>(
  kv: Deno.Kv,
  board: string,
  day: string,
  mail: M,
): Promise<void> {
  const key = bucketMailKey(board, day, mail.idempotencyKey);
  for (;;) {
    const [head, existing] = await retryWhenLocked(() =>
      kv.getMany<[BucketHead, unknown]>([bucketKey(board, day), key])
    );
    if (existing!.versionstamp !== null) return;
    const count = head!.value?.count ?? 0;
    const result = await retryWhenLocked(() =>
      kv.atomic().check(head!, existing!)
        .set(bucketKey(board, day), { closed: head!.value?.closed ?? false, count: count + 1 })
        .set(key, { at: count, mail })
        .commit()
    );
    if (result.ok) return;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
