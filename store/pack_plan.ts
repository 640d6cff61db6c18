/**
 * What a fetch sends, chosen from a {@link PackCache}: the commits from
 * `bottom` to `top` that the client lacks and the objects they reach, each
 * once, and the pack bytes for them.
 */
import type { PackCache } from "./pack_cache.ts";
import { PackWriter } from "./pack_writer.ts";

const RUN_BYTES = 256 << 10;

/** Commits (by position) whose every object the client has. */
export interface ClientRange {
  low: number;
  high: number;
}

/** Which part of the history to send. */
export interface PackRequest {
  /** The newest wanted commit. */
  top: number;
  /** The oldest commit to send; its parents are cut off (shallow) unless it is the root. */
  bottom: number;
  /** Commits the client has completely, or null. */
  client: ClientRange | null;
}

/** How the client reads packs. */
export interface PackFormat {
  /** Deltas may name a base the client has instead of one in the pack. */
  thin: boolean;
  /** Deltas may name their base by offset (OFS_DELTA). */
  ofsDelta: boolean;
}

/** The entries to send, in pack order (every delta base before its deltas). */
export async function planPack(cache: PackCache, request: PackRequest): Promise<number[]> {
  const { top, bottom, client } = request;
  const seen = new Uint8Array(cache.entryCount);
  const plan: number[] = [];
  const add = (entry: number) => {
    if (seen[entry] === 1) return;
    seen[entry] = 1;
    if (!clientHas(client, cache.introducedAt(entry))) plan.push(entry);
  };
  for (let position = bottom; position <= top; position++) {
    if (clientHas(client, position)) continue;
    // A commit's entries are what its tree changed from its parent's, enough
    // when the client gets or has that parent; the root's are its whole tree.
    const parentKnown = position > bottom || clientHas(client, position - 1);
    if (position > 0 ? parentKnown : client === null) {
      for (const entry of cache.entriesOf(position)) add(entry);
      continue;
    }
    const [commit] = cache.entriesOf(position);
    if (commit !== undefined) add(commit);
    const against = client === null
      ? null
      : cache.commitTree(position < client.low ? client.low : client.high);
    for (const entry of await cache.treeEntries(cache.commitTree(position), against)) add(entry);
  }
  return plan;
}

/**
 * The pack of `plan` in chunks of about `chunkSize` bytes. A delta whose
 * base is neither earlier in the pack nor (thin pack) surely at the client
 * is sent whole. Entry data is read from the cache's log in runs through
 * one reused buffer, so memory stays flat however large the pack; the next
 * run is read only when the consumer asks for more.
 */
export async function* packBytes(
  cache: PackCache,
  plan: number[],
  client: ClientRange | null,
  format: PackFormat,
  chunkSize?: number,
): AsyncGenerator<Uint8Array> {
  const writer = new PackWriter(plan.length, chunkSize);
  const offsets = new Float64Array(cache.entryCount).fill(-1);
  const scratch = new Uint8Array(RUN_BYTES);
  for (let from = 0; from < plan.length;) {
    const run = await cache.readRun(plan, from, scratch);
    for (const entry of plan.slice(from, from + run.count)) {
      const base = cache.baseOf(entry);
      const baseOffset = base < 0 ? -1 : offsets[base] ?? -1;
      const data = cache.dataIn(run, entry);
      if (base < 0) {
        offsets[entry] = writer.addWhole(cache.typeOf(entry), cache.sizeOf(entry), data);
      } else if (baseOffset >= 0 && format.ofsDelta) {
        offsets[entry] = writer.addOffsetDelta(cache.sizeOf(entry), baseOffset, data);
      } else if (baseOffset >= 0 || (format.thin && clientHas(client, cache.introducedAt(base)))) {
        offsets[entry] = writer.addRefDelta(cache.sizeOf(entry), cache.oidOf(base), data);
      } else {
        const whole = await cache.whole(entry);
        offsets[entry] = writer.addWhole(cache.typeOf(entry), whole.size, whole.data);
      }
      for (const chunk of writer.drain()) yield chunk;
    }
    from += run.count;
  }
  for (const chunk of writer.finish()) yield chunk;
}

function clientHas(client: ClientRange | null, position: number): boolean {
  return client !== null && position >= client.low && position <= client.high;
}
