/**
 * The history store on local disk: a bare repository at
 * `<dir>/history.git`, the signing key at `<dir>/signing_key` and the
 * data-directory lock at `<dir>/lock`.
 */
import type { CommitRequest, HistoryStore, Identity, Projection } from "./history.ts";
import { type EncodedObject, parseCommit, utf8 } from "./git_objects.ts";
import { parseIdentLine } from "./identity.ts";
import { sshPublicKey } from "./sshsig.ts";
import {
  activateNextSigningKey,
  createNextSigningKey,
  loadOrCreateSigningKey,
  rotatedAllowedSigners,
  settleSigningKey,
  signersTimestamp,
} from "./signing_key.ts";
import { acquireDataLock, type DataLock } from "./data_lock.ts";
import { ObjectDatabase } from "./object_database.ts";
import { lockRef, readRef } from "./ref_file.ts";
import { ensureBareRepository, MAIN_REF, removeCrashLeftovers } from "./bare_repository.ts";
import { syncDirectory } from "./durable_file.ts";
import { ALLOWED_SIGNERS_PATH } from "./commit_builder.ts";
import { type HistoryBackend, openSignedHistory, type SignedHistory } from "./signed_history.ts";

export { ALLOWED_SIGNERS_PATH };

/** Options of {@link openDiskStore}. */
export interface DiskStoreOptions<S> {
  /** The data directory; created when missing. */
  dir: string;
  projection: Projection<S>;
  /** The service identity recorded as committer of every commit. */
  committer: Identity;
}

/** What a key rotation did. */
export interface KeyRotation {
  /** The commit that records it. */
  oid: string;
  /** The OpenSSH public keys, `ssh-ed25519 AAAA...`. */
  retiredKey: string;
  activeKey: string;
  /** When the new key became valid, as allowed_signers writes it. */
  validAfter: string;
  at: Date;
  /** keys/allowed_signers after the rotation. */
  allowedSigners: string;
}

/** Options of {@link rotateSigningKey}. */
export interface RotateKeyOptions {
  /** The commit that records the rotation; the store adds keys/allowed_signers to its files. */
  describe: (rotation: Omit<KeyRotation, "oid" | "allowedSigners">) => CommitRequest;
  now?: () => Date;
}

/**
 * Opens the data directory (refused while another process holds it, such as
 * the running service), rotates its signing key and closes it again.
 */
export async function rotateSigningKey(
  options: RotateKeyOptions & { dir: string; committer: Identity },
): Promise<KeyRotation> {
  await Deno.stat(`${options.dir}/history.git`).catch(() => {
    throw new Error(`Cannot rotate the signing key: "${options.dir}" holds no history`);
  });
  const history = await openDiskHistory({
    dir: options.dir,
    projection: NO_PROJECTION,
    committer: options.committer,
  });
  try {
    return await rotateKey(history, options.dir, options);
  } finally {
    await history.close();
  }
}

const NO_PROJECTION: Projection<null> = {
  empty: () => null,
  wants: () => false,
  apply: () => {},
  setHead: () => {},
};

/**
 * Opens (creating on first use) the store in `options.dir`. Refuses a data
 * directory that another open store holds. Builds the projection from the
 * head tree before resolving.
 */
export async function openDiskStore<S>(options: DiskStoreOptions<S>): Promise<HistoryStore<S>> {
  return await openDiskHistory(options);
}

async function openDiskHistory<S>(options: DiskStoreOptions<S>): Promise<SignedHistory<S>> {
  await Deno.mkdir(options.dir, { recursive: true, mode: 0o700 });
  const lock = await acquireDataLock(options.dir);
  try {
    const key = await loadOrCreateSigningKey(keyPath(options.dir));
    const gitdir = `${options.dir}/history.git`;
    await ensureBareRepository(gitdir);
    await syncDirectory(options.dir);
    await removeCrashLeftovers(gitdir);
    const history = await openSignedHistory({
      backend: new DiskBackend(gitdir, lock),
      projection: options.projection,
      committer: options.committer,
      key,
    });
    history.useKey(await settleSigningKey(keyPath(options.dir), key, history.signersAtHead));
    return history;
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** Loose objects written durably; the ref moved last, under its lock file. */
class DiskBackend implements HistoryBackend {
  readonly label: string;
  #gitdir: string;
  #lock: DataLock;
  #objects: ObjectDatabase;

  constructor(gitdir: string, lock: DataLock) {
    this.label = gitdir;
    this.#gitdir = gitdir;
    this.#lock = lock;
    this.#objects = new ObjectDatabase(gitdir);
  }

  readHead(): Promise<string | null> {
    return readRef(this.#gitdir, MAIN_REF);
  }

  readObject(oid: string): Promise<EncodedObject> {
    return this.#objects.read(oid);
  }

  /**
   * The lock file's new value is flushed while the objects are written; the
   * rename that moves the ref waits for both.
   */
  async append(objects: EncodedObject[], expected: string | null, next: string): Promise<boolean> {
    const lock = await lockRef(this.#gitdir, MAIN_REF, expected);
    if (lock === null) return false;
    try {
      const written = await Promise.allSettled([this.#objects.write(objects), lock.write(next)]);
      for (const result of written) if (result.status === "rejected") throw result.reason;
      await lock.commit();
    } finally {
      await lock.release();
    }
    return true;
  }

  close(): Promise<void> {
    this.#lock.release();
    return Promise.resolve();
  }
}

/**
 * Replaces the signing key: the new key signs one commit that retires the
 * old key in keys/allowed_signers (valid-before one second before the
 * commit) and lists the new one (valid-after the commit's time). The new
 * key file becomes active only after that commit is durable.
 */
async function rotateKey(
  history: SignedHistory<null>,
  dir: string,
  options: RotateKeyOptions,
): Promise<KeyRotation> {
  const current = history.signersAtHead;
  if (history.head() === null || current === null) {
    throw new Error(`Cannot rotate the signing key of "${dir}": the history is empty`);
  }
  const at = await rotationTime(history, options.now ?? (() => new Date()));
  const retired = history.key;
  const next = await createNextSigningKey(keyPath(dir));
  const signers = rotatedAllowedSigners(current, retired.publicKey, next.publicKey, at);
  const rotation = {
    retiredKey: sshPublicKey(retired.publicKey),
    activeKey: sshPublicKey(next.publicKey),
    validAfter: signersTimestamp(at),
    at,
  };
  const request = options.describe(rotation);
  const files = new Map(request.files).set(ALLOWED_SIGNERS_PATH, utf8(signers));
  history.useKey(next);
  let oid: string | null;
  try {
    ({ oid } = await history.transact(() => ({ commit: { ...request, at, files }, result: null })));
  } catch (error) {
    history.useKey(retired);
    throw error;
  }
  await activateNextSigningKey(keyPath(dir));
  return { ...rotation, oid: oid ?? "", allowedSigners: signers };
}

/** A rotation time after the head commit's, so no old-key commit falls after it. */
async function rotationTime(history: SignedHistory<null>, now: () => Date): Promise<Date> {
  const head = parseCommit((await history.readObject(history.head() ?? "")).body);
  const earliest = (parseIdentLine(head.committer).at.getTime() / 1000 + 1) * 1000;
  const wait = earliest - now().getTime();
  if (wait > 5000) {
    throw new Error(
      `Cannot rotate the signing key: the last commit is dated ${wait} ms in the future`,
    );
  }
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  return now();
}

function keyPath(dir: string): string {
  return `${dir}/signing_key`;
}
