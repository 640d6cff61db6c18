/// <reference lib="deno.unstable" />
/**
 * Browser sessions on Deno KV: one entry per session under the SHA-256 of
 * its id, `["akkoord", "sessions", <hash>]`, and one per owner under
 * `["akkoord", "session_owners", <subject>, <organisation>, <hash>]` so that
 * all of a person's sessions can be ended. Both expire (`expireIn`) when the
 * session would end if never seen again; every read checks the times as
 * well, because local KV may return an expired entry until it is swept.
 */
import {
  isLive,
  type NewSessionRecord,
  newSessionRecord,
  parseSessionRecord,
  SEEN_INTERVAL_MS,
  sessionIdHash,
  type SessionOwner,
  type SessionRecord,
  type SessionRecords,
} from "./session_records.ts";
import { KV_LIMITS } from "./kv_objects.ts";
import { retryWhenLocked } from "./kv_retry.ts";

/** Settings of {@link openKvSessionRecords}. */
export interface KvSessionRecordsOptions<P extends SessionOwner> {
  kv: Deno.Kv;
  /** Checks a stored principal; a record whose principal fails is not found. */
  parsePrincipal: (value: unknown) => P | null;
  now?: () => Date;
  /** Receives the error of a write that no request waits for (noting that a session was seen). */
  onWriteError?: (error: Error) => void;
}

function sessionKey(hash: string): Deno.KvKey {
  return ["akkoord", "sessions", hash];
}

function ownerKey(owner: SessionOwner, hash: string): Deno.KvKey {
  return ["akkoord", "session_owners", owner.subject, owner.organisation, hash];
}

/** The session records of the service, kept in `kv`. */
export function openKvSessionRecords<P extends SessionOwner>(
  options: KvSessionRecordsOptions<P>,
): SessionRecords<P> {
  const { kv, parsePrincipal } = options;
  const now = options.now ?? (() => new Date());
  const behind = new Set<Promise<void>>();

  async function read(hash: string): Promise<Deno.KvEntryMaybe<unknown>> {
    return await retryWhenLocked(() => kv.get(sessionKey(hash)));
  }

  function recordOf(entry: Deno.KvEntryMaybe<unknown>): SessionRecord<P> | null {
    return entry.value === null ? null : parseSessionRecord(entry.value, parsePrincipal);
  }

  async function create(
    input: NewSessionRecord<P>,
  ): Promise<{ id: string; record: SessionRecord<P> }> {
    const { id, record } = await newSessionRecord(input, now());
    const replaced = input.replacing === undefined
      ? null
      : recordOf(await read(await sessionIdHash(input.replacing)));
    const operation = () => {
      const atomic = kv.atomic();
      if (replaced !== null) {
        atomic.delete(sessionKey(replaced.idHash))
          .delete(ownerKey(replaced.principal, replaced.idHash));
      }
      const expireIn = expiresIn(record, record.createdAt);
      return atomic.set(sessionKey(record.idHash), record, { expireIn })
        .set(ownerKey(record.principal, record.idHash), true, { expireIn })
        .commit();
    };
    await retryWhenLocked(operation).catch((error) => {
      throw new Error(`Cannot store a session in Deno KV: ${messageOf(error)}`);
    });
    return { id, record: { ...record } };
  }

  async function find(id: string): Promise<SessionRecord<P> | null> {
    const entry = await read(await sessionIdHash(id));
    const record = recordOf(entry);
    const at = now().getTime();
    if (record === null || !isLive(record, at)) return null;
    if (at - record.lastSeenAt >= SEEN_INTERVAL_MS) {
      const seen = { ...record, lastSeenAt: at };
      trackBehind(noteSeen(entry, seen, at));
      return { ...seen };
    }
    return { ...record };
  }

  // Checked against the entry as read, so that noting a visit never brings
  // back a session that was ended meanwhile.
  async function noteSeen(
    entry: Deno.KvEntryMaybe<unknown>,
    seen: SessionRecord<P>,
    at: number,
  ): Promise<void> {
    const expireIn = expiresIn(seen, at);
    await retryWhenLocked(() =>
      kv.atomic().check(entry)
        .set(sessionKey(seen.idHash), seen, { expireIn })
        .set(ownerKey(seen.principal, seen.idHash), true, { expireIn })
        .commit()
    );
  }

  function trackBehind(write: Promise<void>): void {
    const tracked = write.catch((error: unknown) =>
      options.onWriteError?.(error instanceof Error ? error : new Error(String(error)))
    );
    behind.add(tracked);
    void tracked.finally(() => behind.delete(tracked));
  }

  async function remove(id: string): Promise<boolean> {
    const record = recordOf(await read(await sessionIdHash(id)));
    if (record === null) return false;
    await removeAll([record.idHash], record.principal);
    return isLive(record, now().getTime());
  }

  async function removeAllOf(owner: SessionOwner): Promise<number> {
    const hashes: string[] = [];
    const prefix = ["akkoord", "session_owners", owner.subject, owner.organisation];
    for await (const entry of kv.list({ prefix })) hashes.push(String(entry.key.at(-1)));
    const at = now().getTime();
    let live = 0;
    for (let start = 0; start < hashes.length; start += KV_LIMITS.keysPerRead) {
      const keys = hashes.slice(start, start + KV_LIMITS.keysPerRead).map(sessionKey);
      for (const entry of await retryWhenLocked(() => kv.getMany(keys))) {
        const record = recordOf(entry);
        if (record !== null && isLive(record, at)) live++;
      }
    }
    await removeAll(hashes, owner);
    return live;
  }

  async function removeAll(hashes: string[], owner: SessionOwner): Promise<void> {
    for (let start = 0; start < hashes.length; start += 400) {
      const slice = hashes.slice(start, start + 400);
      await retryWhenLocked(() => {
        const atomic = kv.atomic();
        for (const hash of slice) atomic.delete(sessionKey(hash)).delete(ownerKey(owner, hash));
        return atomic.commit();
      }).catch((error) => {
        throw new Error(`Cannot end sessions in Deno KV: ${messageOf(error)}`);
      });
    }
  }

  async function close(): Promise<void> {
    await Promise.all([...behind]);
  }

  return { create, find, remove, removeAllOf, close };
}

/** Milliseconds until the session ends if it is not seen again; at least 1. */
function expiresIn(record: SessionRecord<SessionOwner>, at: number): number {
  const end = Math.min(record.expiresAt, record.lastSeenAt + record.idleTimeoutMs);
  return Math.max(1, end - at);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
