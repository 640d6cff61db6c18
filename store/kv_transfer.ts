/// <reference lib="deno.unstable" />
/**
 * Moves a history between Deno KV and a bare repository on disk, object for
 * object, so that every oid stays the same: export for auditors and backups,
 * import to move a disk history onto KV.
 */
import { type EncodedObject, parseCommit, parseTree } from "./git_objects.ts";
import { ObjectDatabase } from "./object_database.ts";
import { lockRef, readRef } from "./ref_file.ts";
import { ensureBareRepository, MAIN_REF } from "./bare_repository.ts";
import {
  KV_LIMITS,
  type KvWrite,
  MAIN_REF_KEY,
  objectWrites,
  readKvObject,
  readMainRef,
  writeSize,
} from "./kv_objects.ts";
import { retryWhenLocked } from "./kv_retry.ts";

/** What a transfer moved. */
export interface Transfer {
  /** The head commit, or null when the history is empty. */
  head: string | null;
  /** Objects reachable from head, each written once. */
  objects: number;
}

const DISK_BATCH = 256;

/**
 * Writes every object reachable from the KV head into the bare repository at
 * `gitdir` (created when missing) and then points its `refs/heads/main` at
 * the head. Refuses a repository whose `refs/heads/main` already exists.
 */
export async function exportKvHistory(kv: Deno.Kv, gitdir: string): Promise<Transfer> {
  const { oid: head } = await readMainRef(kv);
  await ensureBareRepository(gitdir);
  if ((await readRef(gitdir, MAIN_REF)) !== null) {
    throw new Error(`Cannot export to "${gitdir}": it already has ${MAIN_REF}`);
  }
  if (head === null) return { head, objects: 0 };
  const database = new ObjectDatabase(gitdir);
  let batch: EncodedObject[] = [];
  const objects = await walkHistory(head, (oid) => readKvObject(kv, oid), async (object) => {
    batch.push(object);
    if (batch.length < DISK_BATCH) return;
    await database.write(batch);
    batch = [];
  });
  await database.write(batch);
  const lock = await lockRef(gitdir, MAIN_REF, null);
  if (lock === null) {
    throw new Error(`Cannot export to "${gitdir}": ${MAIN_REF} appeared meanwhile`);
  }
  try {
    await lock.write(head);
    await lock.commit();
  } finally {
    await lock.release();
  }
  return { head, objects };
}

/**
 * Loads every object reachable from `refs/heads/main` of the repository at
 * `gitdir` (loose or packed) into KV, in operations within KV's limits, and
 * moves the KV ref last, checked against the value it had. The KV must be
 * empty or hold an earlier state of the same history (its head an ancestor
 * of the imported head: a fast-forward, as after a key rotation on an
 * exported copy); any other history is refused before the ref moves.
 * Importing the same head again changes nothing.
 */
export async function importKvHistory(kv: Deno.Kv, gitdir: string): Promise<Transfer> {
  const head = await readRef(gitdir, MAIN_REF);
  if (head === null) throw new Error(`Cannot import "${gitdir}": it has no ${MAIN_REF}`);
  const existing = await retryWhenLocked(() => kv.get(MAIN_REF_KEY));
  if (existing.value === head) return { head, objects: 0 };
  const database = new ObjectDatabase(gitdir);
  if (
    existing.versionstamp !== null && !(await isAncestor(database, String(existing.value), head))
  ) {
    throw new Error(
      `Cannot import "${gitdir}": Deno KV holds another history (head ${
        String(existing.value)
      }), which the imported one does not extend`,
    );
  }
  const writer = new BatchWriter(kv);
  const objects = await walkHistory(head, (oid) => database.read(oid), async (object) => {
    for (const write of objectWrites(object)) await writer.add(write);
  });
  await writer.flush();
  const result = await retryWhenLocked(() =>
    kv.atomic().check(existing).set(MAIN_REF_KEY, head).commit()
  );
  if (!result.ok) throw new Error(`Cannot import "${gitdir}": the KV ref moved meanwhile`);
  return { head, objects };
}

/** Writes in order, as few atomic operations as KV's limits allow. */
class BatchWriter {
  #kv: Deno.Kv;
  #writes: KvWrite[] = [];
  #bytes = 0;

  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  async add(write: KvWrite): Promise<void> {
    const size = writeSize(write);
    if (this.#writes.length === KV_LIMITS.mutations || this.#bytes + size > KV_LIMITS.bytes) {
      await this.flush();
    }
    this.#writes.push(write);
    this.#bytes += size;
  }

  async flush(): Promise<void> {
    if (this.#writes.length === 0) return;
    const writes = this.#writes;
    const result = await retryWhenLocked(() => {
      const operation = this.#kv.atomic();
      for (const write of writes) operation.set(write.key, write.value);
      return operation.commit();
    });
    if (!result.ok) throw new Error("Cannot write objects to Deno KV: the operation failed");
    this.#writes = [];
    this.#bytes = 0;
  }
}

/** Whether `ancestor` is `head` or reached from it through first parents. */
async function isAncestor(
  database: ObjectDatabase,
  ancestor: string,
  head: string,
): Promise<boolean> {
  for (let oid: string | undefined = head; oid !== undefined;) {
    if (oid === ancestor) return true;
    oid = parseCommit(await database.readTyped(oid, "commit")).parents[0];
  }
  return false;
}

/**
 * Visits every object reachable from `head` once, each commit before its
 * tree and each tree before its entries; resolves how many were visited.
 */
async function walkHistory(
  head: string,
  read: (oid: string) => Promise<EncodedObject>,
  visit: (object: EncodedObject) => Promise<void>,
): Promise<number> {
  const seen = new Set<string>([head]);
  const pending = [head];
  for (let oid = pending.pop(); oid !== undefined; oid = pending.pop()) {
    const object = await read(oid);
    await visit(object);
    for (const child of children(object)) {
      if (seen.has(child)) continue;
      seen.add(child);
      pending.push(child);
    }
  }
  return seen.size;
}

function children(object: EncodedObject): string[] {
  if (object.type === "commit") {
    const commit = parseCommit(object.body);
    return [...commit.parents, commit.tree];
  }
  if (object.type === "tree") return parseTree(object.body).map((entry) => entry.oid);
  return [];
}
