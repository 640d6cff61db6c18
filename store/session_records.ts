/**
 * Browser sessions as operational state, not history: kept in memory and in
 * one JSON file in the data folder, so that they survive a restart. Only the
 * SHA-256 of each session id is kept, never the id itself. Losing the file
 * logs everyone out and loses nothing else.
 */
import { z } from "zod";
import { writeFileDurably } from "./durable_file.ts";

/** Whose session it is: the person and the organisation they act for. */
export interface SessionOwner {
  subject: string;
  organisation: string;
}

/** One stored session; times are epoch milliseconds. */
export interface SessionRecord<P extends SessionOwner> {
  /** SHA-256 of the session id, 64 lowercase hex digits. */
  idHash: string;
  principal: P;
  csrf: string;
  createdAt: number;
  lastSeenAt: number;
  /** The absolute end, however active the session is. */
  expiresAt: number;
  /** The session ends this long after it was last seen. */
  idleTimeoutMs: number;
}

/** What {@link SessionRecords.create} needs. */
export interface NewSessionRecord<P extends SessionOwner> {
  principal: P;
  csrf: string;
  /** Milliseconds until the absolute end. */
  maxAgeMs: number;
  idleTimeoutMs: number;
  /** A session id the browser had before; its session ends in the same write. */
  replacing?: string;
}

/** The session records of the service. */
export interface SessionRecords<P extends SessionOwner> {
  /** Stores a new session, durably; the id is returned here and nowhere else. */
  create(input: NewSessionRecord<P>): Promise<{ id: string; record: SessionRecord<P> }>;
  /**
   * The live session with this id, or null. Notes that it was seen, at most
   * once a minute, written behind the response.
   */
  find(id: string): Promise<SessionRecord<P> | null>;
  /** Ends one session, durably; false when there was no live session with this id. */
  remove(id: string): Promise<boolean>;
  /** Ends every session of one person, durably; returns how many there were. */
  removeAllOf(owner: SessionOwner): Promise<number>;
  /** Waits for writes under way. */
  close(): Promise<void>;
}

/** Settings of {@link openSessionRecords}. */
export interface SessionRecordsOptions<P extends SessionOwner> {
  /** The JSON file, e.g. `data/sessions.json`; created on the first session. */
  path: string;
  /** Checks a stored principal; a record whose principal fails is dropped. */
  parsePrincipal: (value: unknown) => P | null;
  /** The clock, for tests. */
  now?: () => Date;
  /**
   * Receives the error of a write that no request waits for (noting that a
   * session was seen); without it such an error only delays that note.
   */
  onWriteError?: (error: Error) => void;
}

/** How often at most that a session was seen is written. */
export const SEEN_INTERVAL_MS = 60 * 1000;

const StoredRecord = z.object({
  idHash: z.string().regex(/^[0-9a-f]{64}$/),
  principal: z.unknown(),
  csrf: z.string().min(32),
  createdAt: z.number().int(),
  lastSeenAt: z.number().int(),
  expiresAt: z.number().int(),
  idleTimeoutMs: z.number().int().positive(),
});

const RecordFile = z.object({ sessions: z.array(z.unknown()) });

/**
 * Opens the session file: a missing file means no sessions; records that
 * cannot be read or have ended are dropped.
 */
export async function openSessionRecords<P extends SessionOwner>(
  options: SessionRecordsOptions<P>,
): Promise<SessionRecords<P>> {
  const now = options.now ?? (() => new Date());
  const at = now().getTime();
  const stored = (await readRecords(options.path, options.parsePrincipal))
    .filter((record) => isLive(record, at));
  return recordsIn(stored, {
    now,
    write: fileWriter(options.path),
    ...(options.onWriteError ? { onWriteError: options.onWriteError } : {}),
  });
}

/** Session records kept in memory only, gone when the process ends. */
export function createMemorySessionRecords<P extends SessionOwner>(
  options: { now?: () => Date } = {},
): SessionRecords<P> {
  return recordsIn<P>([], { now: options.now ?? (() => new Date()), write: async () => {} });
}

/** A new session's random id and its record, created and last seen `now`. */
export async function newSessionRecord<P extends SessionOwner>(
  input: NewSessionRecord<P>,
  now: Date,
): Promise<{ id: string; record: SessionRecord<P> }> {
  const id = randomId();
  const at = now.getTime();
  const record: SessionRecord<P> = {
    idHash: await sessionIdHash(id),
    principal: input.principal,
    csrf: input.csrf,
    createdAt: at,
    lastSeenAt: at,
    expiresAt: at + input.maxAgeMs,
    idleTimeoutMs: input.idleTimeoutMs,
  };
  return { id, record };
}

/** The SHA-256 of a session id as 64 lowercase hex digits. */
export async function sessionIdHash(id: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(id));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

type Write<P extends SessionOwner> = (records: SessionRecord<P>[]) => Promise<void>;

function recordsIn<P extends SessionOwner>(
  initial: SessionRecord<P>[],
  io: { now: () => Date; write: Write<P>; onWriteError?: (error: Error) => void },
): SessionRecords<P> {
  const records = new Map(initial.map((record) => [record.idHash, record]));
  const save = coalescedWriter(() => {
    pruneEnded(records, io.now().getTime());
    return io.write([...records.values()]);
  }, io.onWriteError ?? (() => {}));

  async function create(
    input: NewSessionRecord<P>,
  ): Promise<{ id: string; record: SessionRecord<P> }> {
    const { id, record } = await newSessionRecord(input, io.now());
    const replaced = input.replacing === undefined
      ? undefined
      : records.get(await sessionIdHash(input.replacing));
    if (replaced !== undefined) records.delete(replaced.idHash);
    records.set(record.idHash, record);
    await save.durably();
    return { id, record: { ...record } };
  }

  async function find(id: string): Promise<SessionRecord<P> | null> {
    const hash = await sessionIdHash(id);
    const record = records.get(hash);
    if (record === undefined) return null;
    const at = io.now().getTime();
    if (!isLive(record, at)) {
      records.delete(hash);
      return null;
    }
    if (at - record.lastSeenAt >= SEEN_INTERVAL_MS) {
      record.lastSeenAt = at;
      save.behind();
    }
    return { ...record };
  }

  async function remove(id: string): Promise<boolean> {
    const hash = await sessionIdHash(id);
    const record = records.get(hash);
    if (record === undefined) return false;
    await removeDurably([record]);
    return isLive(record, io.now().getTime());
  }

  async function removeAllOf(owner: SessionOwner): Promise<number> {
    const at = io.now().getTime();
    const owned = [...records.values()].filter((record) => ownedBy(record, owner));
    await removeDurably(owned);
    return owned.filter((record) => isLive(record, at)).length;
  }

  // A session whose end could not be written stays, so that what the server
  // answers agrees with what a restart would find.
  async function removeDurably(ended: SessionRecord<P>[]): Promise<void> {
    for (const record of ended) records.delete(record.idHash);
    try {
      await save.durably();
    } catch (error) {
      for (const record of ended) records.set(record.idHash, record);
      throw error;
    }
  }

  return { create, find, remove, removeAllOf, close: () => save.settled() };
}

/**
 * Serialises writes of the whole file. A write that has not started yet
 * takes every change made before it starts, so a burst of changes costs one
 * write after the one under way.
 */
function coalescedWriter(write: () => Promise<void>, onBehindError: (error: Error) => void) {
  let current: Promise<void> = Promise.resolve();
  let queued: Promise<void> | undefined;

  function durably(): Promise<void> {
    queued ??= current.catch(() => undefined).then(() => {
      queued = undefined;
      return write();
    });
    current = queued;
    return queued;
  }

  function behind(): void {
    durably().catch((error: Error) => onBehindError(error));
  }

  return { durably, behind, settled: () => current.catch(() => undefined) };
}

function fileWriter<P extends SessionOwner>(path: string): Write<P> {
  return async (records) => {
    const bytes = new TextEncoder().encode(JSON.stringify({ sessions: records }) + "\n");
    await writeFileDurably(path, bytes, 0o600).catch((error: unknown) => {
      throw new Error(`Cannot write the session file "${path}"`, { cause: error });
    });
  };
}

async function readRecords<P extends SessionOwner>(
  path: string,
  parsePrincipal: (value: unknown) => P | null,
): Promise<SessionRecord<P>[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw new Error(`Cannot read the session file "${path}"`, { cause: error });
  }
  const file = RecordFile.safeParse(parseJson(text));
  if (!file.success) {
    throw new Error(
      `Cannot read the session file "${path}": it is not a list of sessions; removing it logs everyone out`,
    );
  }
  return file.data.sessions.flatMap((value) => {
    const record = parseSessionRecord(value, parsePrincipal);
    return record === null ? [] : [record];
  });
}

/** A stored session record checked, or null when it or its principal is not valid. */
export function parseSessionRecord<P extends SessionOwner>(
  value: unknown,
  parsePrincipal: (value: unknown) => P | null,
): SessionRecord<P> | null {
  const record = StoredRecord.safeParse(value);
  const principal = record.success ? parsePrincipal(record.data.principal) : null;
  return record.success && principal !== null ? { ...record.data, principal } : null;
}

/** Whether a session is live at `at`: before its absolute end and not idle too long. */
export function isLive(record: SessionRecord<SessionOwner>, at: number): boolean {
  return at < record.expiresAt && at < record.lastSeenAt + record.idleTimeoutMs;
}

function pruneEnded<P extends SessionOwner>(records: Map<string, SessionRecord<P>>, at: number) {
  for (const [hash, record] of records) {
    if (!isLive(record, at)) records.delete(hash);
  }
}

function ownedBy(record: SessionRecord<SessionOwner>, owner: SessionOwner): boolean {
  return record.principal.subject === owner.subject &&
    record.principal.organisation === owner.organisation;
}

/** A new session id: 256 random bits, base64url. */
export function randomId(): string {
  let binary = "";
  for (const byte of crypto.getRandomValues(new Uint8Array(32))) {
    binary += String.fromCharCode(byte);
  }
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
