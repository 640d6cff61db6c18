/// <reference lib="deno.unstable" />
/**
 * The history store on Deno KV. The objects of an append (one commit, or a
 * chain of commits that queued up together, see signed_history.ts) and the
 * move of `refs/heads/main` form one atomic operation checked against the
 * ref's versionstamp: a writer that lost a race writes nothing, and a crash
 * never leaves the ref pointing at a missing object. A chain too large for
 * one operation is appended in parts, each moving the ref. Writers that keep losing
 * races get a turn (see kv_turn.ts). Nothing here touches files or
 * starts processes, so it runs on Deno Deploy as it runs locally.
 */
import type { HistoryStore, Identity, Projection } from "./history.ts";
import type { EncodedObject } from "./git_objects.ts";
import type { SigningKey } from "./sshsig.ts";
import { assertKeyNotRetired } from "./commit_builder.ts";
import { type HistoryBackend, openSignedHistory } from "./signed_history.ts";
import {
  type BaseCache,
  isDeltaWrite,
  KV_LIMITS,
  type KvWrite,
  MAIN_REF_KEY,
  objectWrites,
  readKvObject,
  readKvObjects,
  readMainRef,
  writeSize,
} from "./kv_objects.ts";
import { retryWhenLocked } from "./kv_retry.ts";
import {
  claimTurn,
  heldBy,
  heldByOther,
  LOSSES_BEFORE_CLAIM,
  readRefAndTurn,
  type RefAndTurn,
  TURN_KEY,
  TURN_MS,
} from "./kv_turn.ts";

/** Options of {@link openKvStore}. */
export interface KvStoreOptions<S> {
  kv: Deno.Kv;
  projection: Projection<S>;
  /** The service identity recorded as committer of every commit. */
  committer: Identity;
  /** Signs every commit; keys/allowed_signers lists its public key. */
  signingKey: SigningKey;
  /**
   * Whether the store closes `kv` when it is closed or fails to open.
   * Default false: the caller closes it.
   */
  ownsKv?: boolean;
}

/**
 * Opens the history kept in `options.kv` (an empty database starts an empty
 * history) and builds the projection from the head tree. Refuses a signing
 * key that keys/allowed_signers at head retired.
 */
export async function openKvStore<S>(options: KvStoreOptions<S>): Promise<HistoryStore<S>> {
  const backend = new KvBackend(options.kv, options.ownsKv ?? false);
  try {
    const history = await openSignedHistory({
      backend,
      projection: options.projection,
      committer: options.committer,
      key: options.signingKey,
    });
    assertKeyNotRetired(history.signersAtHead, options.signingKey.publicKey);
    return history;
  } catch (error) {
    await backend.close();
    throw error;
  }
}

/** What an append adds to its objects: the ref move and the release of a turn. */
const REF_MUTATIONS = 2;
/** The checks of every append: the ref and the turn entry. */
const REF_CHECKS = 2;
const REF_BYTES = 400;
/** Tries of one operation of objects written ahead, each after dropping deltas stored meanwhile. */
const WRITE_AHEAD_ATTEMPTS = 5;

/** Whether `writes` plus the ref move fit in one atomic operation. */
function fitsOneOperation(writes: KvWrite[]): boolean {
  return fitsOperation(writes, REF_MUTATIONS, REF_CHECKS, REF_BYTES);
}

function fitsOperation(writes: KvWrite[], mutations: number, checks: number, bytes: number) {
  return writes.length + mutations <= KV_LIMITS.mutations &&
    writes.filter(isDeltaWrite).length + checks <= KV_LIMITS.checks &&
    operationBytes(writes) + bytes <= KV_LIMITS.bytes;
}

/**
 * `writes` in runs that each fit in one atomic operation without the ref
 * move, in order: every whole object (its chunks before its entry) first,
 * then the deltas, so that no run stores a delta before its base.
 */
function operationRuns(writes: KvWrite[]): KvWrite[][] {
  const ordered = [
    ...writes.filter((write) => !isDeltaWrite(write)),
    ...writes.filter(isDeltaWrite),
  ];
  const runs: KvWrite[][] = [];
  let run: KvWrite[] = [];
  let bytes = 0;
  let checks = 0;
  for (const write of ordered) {
    const size = writeSize(write);
    const check = isDeltaWrite(write) ? 1 : 0;
    if (
      run.length === KV_LIMITS.mutations || bytes + size > KV_LIMITS.bytes ||
      checks + check > KV_LIMITS.checks
    ) {
      runs.push(run);
      run = [];
      bytes = 0;
      checks = 0;
    }
    run.push(write);
    bytes += size;
    checks += check;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

function operationBytes(writes: KvWrite[]): number {
  return writes.reduce((size, write) => size + writeSize(write), 0);
}

/**
 * The writes of `objects`, each object once: whole where one of its copies
 * is to be kept whole, as other deltas of the operation may rest on it.
 */
function uniqueWrites(objects: EncodedObject[]): KvWrite[] {
  const unique = new Map<string, EncodedObject>();
  for (const object of objects) {
    const seen = unique.get(object.oid);
    if (seen === undefined || seen.deltaBase !== undefined) unique.set(object.oid, object);
  }
  return [...unique.values()].flatMap(objectWrites);
}

/** Objects and ref in Deno KV, appended by one checked atomic operation. */
class KvBackend implements HistoryBackend {
  readonly label = "Deno KV history";
  #kv: Deno.Kv;
  #ownsKv: boolean;
  #id = crypto.randomUUID();
  #losses = 0;
  /** The ref and turn entry as this writer's last commit left them. */
  #last: RefAndTurn | null = null;
  #bases: BaseCache = new Map();

  constructor(kv: Deno.Kv, ownsKv: boolean) {
    this.#kv = kv;
    this.#ownsKv = ownsKv;
  }

  async readHead(): Promise<string | null> {
    return (await readMainRef(this.#kv)).oid;
  }

  readObject(oid: string): Promise<EncodedObject> {
    return readKvObject(this.#kv, oid, this.#bases);
  }

  readObjects(oids: string[]): Promise<EncodedObject[]> {
    return readKvObjects(this.#kv, oids, this.#bases);
  }

  /**
   * The first try commits blind when this writer made the last known commit:
   * it checks the ref against the versionstamp of that commit and the turn
   * entry against being absent, so a writer that moved the ref or claimed the
   * turn meanwhile still makes it fail, and only then are both read.
   */
  async append(objects: EncodedObject[], expected: string | null, next: string): Promise<boolean> {
    let writes = uniqueWrites(objects);
    if (!fitsOneOperation(writes)) writes = await this.#writeAhead(writes, next);
    const started = Date.now();
    let known = this.#last?.ref.value === expected ? this.#last : null;
    this.#last = null;
    for (;;) {
      const { ref, turn } = known ?? await readRefAndTurn(this.#kv);
      known = null;
      // A commit retried after "database is locked" may have landed the first time.
      if (ref.value === next) return this.#won();
      if (ref.value !== (expected ?? null)) return await this.#lost(turn);
      if (heldByOther(turn, this.#id) && Date.now() - started < TURN_MS) {
        await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * 2));
        continue;
      }
      const result = await this.#commit(writes, ref, turn, next);
      if (result.ok) {
        this.#last = {
          ref: { key: MAIN_REF_KEY, value: next, versionstamp: result.versionstamp },
          turn: { key: TURN_KEY, value: null, versionstamp: null },
        };
        return this.#won();
      }
      writes = await this.#withoutPresentDeltas(writes);
    }
  }

  close(): Promise<void> {
    if (this.#ownsKv) this.#kv.close();
    return Promise.resolve();
  }

  #commit(
    writes: KvWrite[],
    ref: Deno.KvEntryMaybe<unknown>,
    turn: Deno.KvEntryMaybe<unknown>,
    next: string,
  ): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
    return retryWhenLocked(() => {
      const operation = this.#kv.atomic().check(ref, turn);
      for (const write of writes) {
        if (isDeltaWrite(write)) operation.check({ key: write.key, versionstamp: null });
        operation.set(write.key, write.value);
      }
      if (heldBy(turn, this.#id)) operation.delete(TURN_KEY);
      return operation.set(MAIN_REF_KEY, next).commit();
    }).catch((error) => {
      throw new Error(`Cannot append commit ${next} to Deno KV: ${messageOf(error)}`);
    });
  }

  /**
   * Writes the objects of an append too large for one operation in
   * operations of their own, unconditionally (objects are immutable and
   * named by their content, so writing one again is harmless), and returns
   * what is left for the operation that moves the ref: the last run when it
   * fits there, else nothing. Until the ref moves no reader reaches them;
   * after a crash or a lost race they stay unreferenced, as loose objects
   * do in git.
   */
  async #writeAhead(writes: KvWrite[], next: string): Promise<KvWrite[]> {
    const runs = operationRuns(writes);
    const last = runs.at(-1) ?? [];
    const rest = fitsOneOperation(last) ? last : [];
    for (const run of rest.length > 0 ? runs.slice(0, -1) : runs) {
      let pending = run;
      for (let attempt = 1;; attempt++) {
        const result = await retryWhenLocked(() => {
          const operation = this.#kv.atomic();
          for (const write of pending) {
            if (isDeltaWrite(write)) operation.check({ key: write.key, versionstamp: null });
            operation.set(write.key, write.value);
          }
          return operation.commit();
        }).catch((error) => {
          throw new Error(`Cannot append commit ${next} to Deno KV: ${messageOf(error)}`);
        });
        if (result.ok) break;
        if (attempt === WRITE_AHEAD_ATTEMPTS) {
          throw new Error(`Cannot append commit ${next} to Deno KV: writing its objects failed`);
        }
        // A delta's key is taken: that object is stored already.
        pending = await this.#withoutPresentDeltas(pending);
      }
    }
    return rest;
  }

  /**
   * `writes` without the deltas of objects KV holds already: such an object
   * (the same tree reached again) stays as it is, and the next try can pass
   * its checks.
   */
  async #withoutPresentDeltas(writes: KvWrite[]): Promise<KvWrite[]> {
    const deltas = writes.filter(isDeltaWrite).map((write) => write.key);
    const present = new Set<string>();
    for (let start = 0; start < deltas.length; start += KV_LIMITS.keysPerRead) {
      const keys = deltas.slice(start, start + KV_LIMITS.keysPerRead);
      for (const entry of await retryWhenLocked(() => this.#kv.getMany(keys))) {
        if (entry.versionstamp !== null) present.add(String(entry.key.at(-1)));
      }
    }
    if (present.size === 0) return writes;
    return writes.filter((write) => !isDeltaWrite(write) || !present.has(String(write.key.at(-1))));
  }

  #won(): boolean {
    this.#losses = 0;
    return true;
  }

  async #lost(turn: Deno.KvEntryMaybe<unknown>): Promise<boolean> {
    this.#losses++;
    if (this.#losses >= LOSSES_BEFORE_CLAIM) await claimTurn(this.#kv, turn, this.#id);
    return false;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
