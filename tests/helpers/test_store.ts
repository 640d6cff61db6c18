/// <reference lib="deno.unstable" />
/**
 * The history backend a run of the test suite uses, chosen by the
 * environment variable `AKKOORD_TEST_STORE` (`disk`, the default, or `kv`).
 * Tests start services and open stores through these helpers, so one suite
 * runs against either backend; `deno task test` runs it against both.
 */
import { type AccessTokens, openAccessTokens } from "../../store/access_tokens.ts";
import { openDiskStore } from "../../store/disk_store.ts";
import type { HistoryStore, Identity, Projection } from "../../store/history.ts";
import { readMainRef } from "../../store/kv_objects.ts";
import { openDatabase, openKvHistory } from "../../store/kv_open.ts";
import { exportKvHistory, importKvHistory } from "../../store/kv_transfer.ts";
import { openKvAccessTokens } from "../../store/kv_access_tokens.ts";
import { kvOutboxStorage } from "../../store/kv_outbox.ts";
import { loadOrCreateKvSecret } from "../../store/kv_secrets.ts";
import { diskOutboxStorage, type OutboxMail, type OutboxStorage } from "../../store/outbox.ts";
import { generateSigningKey } from "../../store/signing_key.ts";

/** A history backend of the service. */
export type Backend = "disk" | "kv";

/** The variable that chooses the backend of a test run. */
export const TEST_STORE_VARIABLE = "AKKOORD_TEST_STORE";

/** The backend of this test run: `AKKOORD_TEST_STORE`, `disk` when unset. */
export function testBackend(): Backend {
  const value = Deno.env.get(TEST_STORE_VARIABLE) || "disk";
  if (value === "disk" || value === "kv") return value;
  throw new Error(`${TEST_STORE_VARIABLE} is "${value}"; it must be "disk" or "kv"`);
}

/**
 * Options of `Deno.test` for a test about one backend only: it runs in that
 * backend's run and is reported as ignored in the other's; its name says so.
 */
export function onlyOn(backend: Backend, name: string): { name: string; ignore: boolean } {
  return { name: `${name} (${backend} store only)`, ignore: testBackend() !== backend };
}

let processKey: Promise<string> | undefined;

/**
 * The OpenSSH private key the KV history of a data directory is signed with:
 * the directory's `signing_key` file when it has one (as a history built on
 * disk does), else one key made once per test process.
 */
export async function kvSigningKey(dataDir: string): Promise<string> {
  try {
    return await Deno.readTextFile(`${dataDir}/signing_key`);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  processKey ??= generateSigningKey().then(({ file }) => file);
  return await processKey;
}

/**
 * `env` with the variables that put a service on `dataDir` onto this run's
 * backend; unchanged on disk, or when `env` chooses a store itself. Pass the
 * result to a service started as a child process too.
 */
export async function withTestStore(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<Record<string, string>> {
  if (testBackend() === "disk" || env.AKKOORD_STORE !== undefined) return env;
  return { AKKOORD_STORE: "kv", AKKOORD_SIGNING_KEY: await kvSigningKey(dataDir), ...env };
}

/** The KV database a service on `dataDir` uses when AKKOORD_KV_PATH is unset. */
export function kvPathIn(dataDir: string): string {
  return `${dataDir}/history.kv`;
}

/** Options of {@link openTestStore}. */
export interface TestStoreOptions<S> {
  /** The data directory, as the service would be given it. */
  dir: string;
  projection: Projection<S>;
  committer: Identity;
}

/**
 * Opens the history of `dir` on this run's backend, as the service would.
 * On KV, a history already written on disk in `dir` (buildBigHistory) is
 * first loaded into the KV database, so both backends hold the same commits.
 */
export async function openTestStore<S>(options: TestStoreOptions<S>): Promise<HistoryStore<S>> {
  if (testBackend() === "disk") return await openDiskStore(options);
  const path = kvPathIn(options.dir);
  if (await exists(`${options.dir}/history.git/refs/heads/main`)) {
    const kv = await openDatabase(path);
    try {
      await importKvHistory(kv, `${options.dir}/history.git`);
    } finally {
      kv.close();
    }
  }
  return await openKvHistory({
    path,
    signingKey: await kvSigningKey(options.dir),
    projection: options.projection,
    committer: options.committer,
  });
}

let exports = 0;

/**
 * A bare repository holding the history of `dataDir` for stock git: on disk
 * the live `history.git`; on KV a fresh export of the KV database (a copy as
 * of this call, inside `dataDir`, so it goes when the directory goes).
 */
export async function historyGitDir(dataDir: string): Promise<string> {
  if (testBackend() === "disk") return `${dataDir}/history.git`;
  const gitdir = `${dataDir}/history-export-${++exports}-${crypto.randomUUID()}.git`;
  const kv = await openDatabase(kvPathIn(dataDir));
  try {
    await exportKvHistory(kv, gitdir);
  } finally {
    kv.close();
  }
  return gitdir;
}

/** The oid `refs/heads/main` of the history of `dataDir` points at, or null before any commit. */
export async function historyHead(dataDir: string): Promise<string | null> {
  if (testBackend() === "disk") {
    try {
      return (await Deno.readTextFile(`${dataDir}/history.git/refs/heads/main`)).trim();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
  }
  const path = kvPathIn(dataDir);
  if (!await exists(path)) return null;
  const kv = await openDatabase(path);
  try {
    return (await readMainRef(kv)).oid;
  } finally {
    kv.close();
  }
}

/**
 * A file (mode 0600) holding the private key the history of `dataDir` is
 * signed with, for tests that forge commits with the real key.
 */
export async function signingKeyFile(dataDir: string): Promise<string> {
  if (testBackend() === "disk") return `${dataDir}/signing_key`;
  const path = `${dataDir}/kv_signing_key.test`;
  await Deno.writeTextFile(path, await kvSigningKey(dataDir), { mode: 0o600 });
  return path;
}

/** Runs `work` on the KV database of `dataDir`; resolves `absent` when there is none. */
async function withKv<T>(
  dataDir: string,
  absent: T,
  work: (kv: Deno.Kv) => Promise<T>,
): Promise<T> {
  const path = kvPathIn(dataDir);
  if (!await exists(path)) return absent;
  const kv = await openDatabase(path);
  try {
    return await work(kv);
  } finally {
    kv.close();
  }
}

/** Runs `work` on the mail outbox of the service on `dataDir`, where its backend keeps it. */
function withOutbox<T>(
  dataDir: string,
  absent: T,
  work: (storage: OutboxStorage) => Promise<T>,
): Promise<T> {
  if (testBackend() === "kv") return withKv(dataDir, absent, (kv) => work(kvOutboxStorage(kv)));
  return exists(`${dataDir}/outbox`).then((found) =>
    found ? work(diskOutboxStorage(`${dataDir}/outbox`)) : absent
  );
}

/** Every mail in the outbox of the service on `dataDir`, in no particular order. */
export function outboxMails(dataDir: string): Promise<OutboxMail[]> {
  return withOutbox(dataDir, [], (storage) => storage.readMails());
}

/** The last commit the outbox of the service on `dataDir` processed, or null. */
export function outboxCursor(dataDir: string): Promise<string | null> {
  return withOutbox(dataDir, null, (storage) => storage.readCursor());
}

/** The development broker's private JWK, as the service on `dataDir` keeps it. */
export async function devBrokerKey(dataDir: string): Promise<string> {
  if (testBackend() === "disk") return await Deno.readTextFile(`${dataDir}/dev_broker_key.json`);
  const key = await withKv(dataDir, null, (kv) =>
    loadOrCreateKvSecret(kv, "dev_broker_key", () => {
      throw new Error(`The service on "${dataDir}" has no development broker key yet`);
    }));
  if (key === null) throw new Error(`There is no Deno KV database in "${dataDir}"`);
  return key;
}

/**
 * Runs `work` on the access tokens of the service on `dataDir`, opened anew
 * from where its backend keeps them (so it sees what the service stored).
 */
export async function withAccessTokens<T>(
  dataDir: string,
  work: (tokens: AccessTokens) => Promise<T>,
): Promise<T> {
  if (testBackend() === "disk") {
    return await work(await openAccessTokens({ path: `${dataDir}/access_tokens.json` }));
  }
  const kv = await openDatabase(kvPathIn(dataDir));
  try {
    const tokens = await openKvAccessTokens({ kv });
    try {
      return await work(tokens);
    } finally {
      await tokens.close();
    }
  } finally {
    kv.close();
  }
}

/**
 * What the service on `dataDir` stored about access tokens: the text of
 * `access_tokens.json` on disk, or the KV entries under `["akkoord",
 * "access_token…"]` written as JSON; and the token records. Null before the
 * first token.
 */
export async function storedAccessTokens(
  dataDir: string,
): Promise<{ text: string; tokens: Array<Record<string, unknown>> } | null> {
  if (testBackend() === "disk") {
    try {
      const text = await Deno.readTextFile(`${dataDir}/access_tokens.json`);
      return { text, tokens: JSON.parse(text).tokens };
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
  }
  return await withKv(dataDir, null, async (kv) => {
    const entries: Array<{ key: Deno.KvKey; value: unknown }> = [];
    for await (const entry of kv.list({ prefix: ["akkoord"] })) {
      if (String(entry.key[1]).startsWith("access_token")) {
        entries.push({ key: entry.key, value: entry.value });
      }
    }
    if (entries.length === 0) return null;
    const tokens = entries.filter((entry) => entry.key[1] === "access_tokens")
      .map((entry) => entry.value as Record<string, unknown>);
    return { text: JSON.stringify(entries), tokens };
  });
}

/**
 * Deletes what the service on `dataDir` keeps of its sessions, as losing it
 * would: `sessions.json` on disk, the `["akkoord", "session…"]` entries on KV.
 */
export async function loseSessions(dataDir: string): Promise<void> {
  if (testBackend() === "disk") return await Deno.remove(`${dataDir}/sessions.json`);
  await withKv(dataDir, null, async (kv) => {
    for await (const entry of kv.list({ prefix: ["akkoord"] })) {
      if (String(entry.key[1]).startsWith("session")) await kv.delete(entry.key);
    }
    return null;
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
