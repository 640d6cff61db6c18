/**
 * The server side of `git-upload-pack` over stateless HTTP: the ref
 * advertisement, protocol v0/v1 negotiation (gitprotocol-pack) and the
 * protocol v2 commands `ls-refs` and `fetch` (gitprotocol-v2). Read-only:
 * the history has one branch, `refs/heads/main`, which HEAD points at.
 */
import type { PackCache } from "./pack_cache.ts";
import { type ClientRange, packBytes, type PackFormat, planPack } from "./pack_plan.ts";
import {
  concatBytes,
  DELIM_PKT,
  FLUSH_PKT,
  MAX_PKT_LENGTH,
  type Packet,
  packetText,
  parsePackets,
  pktText,
  sideBand,
} from "./pkt_line.ts";

/** The branch the history is on. */
export const MAIN_BRANCH = "refs/heads/main";
/** What the server calls itself in `agent=`. */
export const SERVER_AGENT = "akkoord/1";

/** Bounds on one request. */
export interface UploadPackLimits {
  maxWants: number;
  maxHaves: number;
  maxShallows: number;
  /** Time (ms since the epoch) after which a pack being sent is aborted. */
  deadline?: number;
}

/** One consistent view of the history for a whole request. */
export interface Snapshot {
  /** `refs/heads/main` when the request arrived, or null when the history is empty. */
  head: string | null;
  /** Covers at least every commit up to `head`. */
  cache: PackCache;
}

/** The protocol a client asked for through `Git-Protocol`. */
export type ProtocolVersion = 0 | 1 | 2;

/** A request the protocol refuses; its message reaches the client as `ERR`. */
export class UploadPackError extends Error {}

const ZERO_OID = "0".repeat(40);
const OID = /^[0-9a-f]{40}$/;
const INFINITE_DEPTH = 0x7fffffff;
const CHUNK_BYTES = 64 << 10;
const V0_CAPABILITIES = [
  "multi_ack",
  "thin-pack",
  "side-band",
  "side-band-64k",
  "ofs-delta",
  "shallow",
  "deepen-since",
  "deepen-relative",
  "no-progress",
  "include-tag",
  "multi_ack_detailed",
  "no-done",
  `symref=HEAD:${MAIN_BRANCH}`,
  "object-format=sha1",
  `agent=${SERVER_AGENT}`,
];
const V2_CAPABILITIES = [
  `agent=${SERVER_AGENT}`,
  "ls-refs=unborn",
  "fetch=shallow",
  "server-option",
  "object-format=sha1",
];
const encoder = new TextEncoder();

/** The body of `GET info/refs?service=git-upload-pack`. */
export function advertisement(
  head: string | null,
  version: ProtocolVersion,
): Uint8Array<ArrayBuffer> {
  if (version === 2) {
    return concatBytes([pktText("version 2"), ...V2_CAPABILITIES.map(pktText), FLUSH_PKT]);
  }
  const caps = V0_CAPABILITIES.join(" ");
  const refs = head === null
    ? [pktText(`${ZERO_OID} capabilities^{}\0${caps}`)]
    : [pktText(`${head} HEAD\0${caps}`), pktText(`${head} ${MAIN_BRANCH}`)];
  return concatBytes([
    pktText("# service=git-upload-pack"),
    FLUSH_PKT,
    ...(version === 1 ? [pktText("version 1")] : []),
    ...refs,
    FLUSH_PKT,
  ]);
}

/**
 * The response to `POST git-upload-pack`, in chunks. Refusals become an
 * `ERR` packet (or an error on side-band 3 once the pack has started).
 */
export async function* uploadPack(
  body: Uint8Array,
  snapshot: Snapshot,
  version: ProtocolVersion,
  limits: UploadPackLimits,
): AsyncGenerator<Uint8Array> {
  let packets: Packet[];
  try {
    packets = parsePackets(body);
  } catch (error) {
    yield errPacket(error);
    return;
  }
  const response = version === 2
    ? serveV2(packets, snapshot, limits)
    : serveV0(packets, snapshot, limits);
  try {
    for await (const chunk of response) yield chunk;
  } catch (error) {
    if (!(error instanceof UploadPackError)) throw error;
    yield errPacket(error);
  }
}

/** Wants, shallow lines and depth as both protocol versions carry them. */
interface FetchRequest {
  wants: string[];
  haves: string[];
  shallows: string[];
  depth: number;
  deepenRelative: boolean;
  deepenSince: number | null;
  done: boolean;
  format: PackFormat;
  sideBand: 0 | 1000 | typeof MAX_PKT_LENGTH;
}

/** Where the pack starts and ends, and the shallow lines that say so. */
interface FetchPlan {
  top: number;
  bottom: number;
  client: ClientRange | null;
  shallow: string[];
  unshallow: string[];
  commons: string[];
}

async function* serveV0(
  packets: Packet[],
  snapshot: Snapshot,
  limits: UploadPackLimits,
): AsyncGenerator<Uint8Array> {
  const firstFlush = packets.findIndex((packet) => packet.kind === "flush");
  const needs = packets.slice(0, firstFlush < 0 ? packets.length : firstFlush);
  if (!needs.some((packet) => packetText(packet).startsWith("want "))) return;
  const request = parseV0Needs(needs, limits);
  const cut = planFetch(request, snapshot);
  if (request.depth > 0 || request.deepenSince !== null) yield shallowLines(cut, FLUSH_PKT);
  if (firstFlush < 0) return;
  const ack = new AckState(request.capabilities);
  const out: Uint8Array[] = [];
  const send = () => {
    const plan = planFetch({ ...request, haves: ack.commons() }, snapshot);
    return sendPackfile(snapshot.cache, plan, request.format, request.sideBand, limits.deadline);
  };
  let haves = 0;
  for (const packet of packets.slice(firstFlush + 1)) {
    const text = packetText(packet);
    if (packet.kind === "flush") {
      const sendPack = ack.endOfRound(out);
      yield concatBytes(out);
      if (sendPack) yield* send();
      return;
    }
    if (text === "done") {
      ack.done(out);
      yield concatBytes(out);
      yield* send();
      return;
    }
    const oid = text.startsWith("have ") ? text.slice(5) : null;
    if (oid === null || !OID.test(oid)) {
      throw new UploadPackError(`expected have or done, got "${text.slice(0, 60)}"`);
    }
    if (++haves > limits.maxHaves) throw new UploadPackError(`more than ${limits.maxHaves} haves`);
    ack.have(out, oid, commitPosition(snapshot, oid) !== null);
  }
  if (out.length > 0) yield concatBytes(out);
}

interface V0Request extends FetchRequest {
  capabilities: Set<string>;
}

function parseV0Needs(packets: Packet[], limits: UploadPackLimits): V0Request {
  const wants: string[] = [];
  const shallows: string[] = [];
  let capabilities = new Set<string>();
  let depth = 0;
  let deepenSince: number | null = null;
  for (const packet of packets) {
    const text = packetText(packet);
    const [word = "", value = "", ...rest] = text.split(" ");
    if (word === "want") {
      if (wants.length === 0) capabilities = new Set(rest);
      wants.push(checkedOid(value, text));
    } else if (word === "shallow") shallows.push(checkedOid(value, text));
    else if (word === "deepen") depth = checkedDepth(value);
    else if (word === "deepen-since") deepenSince = checkedTime(value);
    else if (word === "deepen-not") throw new UploadPackError("deepen-not is not supported");
    else throw new UploadPackError(`unexpected line "${text.slice(0, 60)}"`);
  }
  checkCounts(wants.length, shallows.length, limits);
  if (depth > 0 && deepenSince !== null) {
    throw new UploadPackError("deepen and deepen-since cannot be used together");
  }
  return {
    wants,
    haves: [],
    shallows,
    depth,
    deepenRelative: capabilities.has("deepen-relative"),
    deepenSince,
    done: false,
    format: { thin: capabilities.has("thin-pack"), ofsDelta: capabilities.has("ofs-delta") },
    sideBand: capabilities.has("side-band-64k")
      ? MAX_PKT_LENGTH
      : capabilities.has("side-band")
      ? 1000
      : 0,
    capabilities,
  };
}

/** The acknowledgement rules of multi_ack_detailed, multi_ack and the plain mode. */
class AckState {
  #mode: "detailed" | "multi" | "single";
  #noDone: boolean;
  #common = new Set<string>();
  #last = "";
  #gotCommon = false;
  #gotOther = false;
  #sentReady = false;

  constructor(capabilities: Set<string>) {
    this.#mode = capabilities.has("multi_ack_detailed")
      ? "detailed"
      : capabilities.has("multi_ack")
      ? "multi"
      : "single";
    this.#noDone = capabilities.has("no-done");
  }

  have(out: Uint8Array[], oid: string, known: boolean): void {
    if (!known) {
      this.#gotOther = true;
      if (this.#mode !== "single" && this.#common.size > 0) {
        if (this.#mode === "detailed") {
          this.#sentReady = true;
          out.push(pktText(`ACK ${oid} ready`));
        } else out.push(pktText(`ACK ${oid} continue`));
      }
      return;
    }
    this.#gotCommon = true;
    this.#last = oid;
    this.#common.add(oid);
    if (this.#mode === "detailed") out.push(pktText(`ACK ${oid} common`));
    else if (this.#mode === "multi") out.push(pktText(`ACK ${oid} continue`));
    else if (this.#common.size === 1) out.push(pktText(`ACK ${oid}`));
  }

  /** The common commits acknowledged so far. */
  commons(): string[] {
    return [...this.#common];
  }

  /** Answers a flush; true when the pack follows (no-done after ready). */
  endOfRound(out: Uint8Array[]): boolean {
    if (this.#mode === "detailed" && this.#gotCommon && !this.#gotOther) {
      this.#sentReady = true;
      out.push(pktText(`ACK ${this.#last} ready`));
    }
    if (this.#common.size === 0 || this.#mode !== "single") out.push(pktText("NAK"));
    if (this.#noDone && this.#sentReady) {
      out.push(pktText(`ACK ${this.#last}`));
      return true;
    }
    return false;
  }

  done(out: Uint8Array[]): void {
    if (this.#common.size === 0) out.push(pktText("NAK"));
    else if (this.#mode !== "single") out.push(pktText(`ACK ${this.#last}`));
  }
}

async function* serveV2(
  packets: Packet[],
  snapshot: Snapshot,
  limits: UploadPackLimits,
): AsyncGenerator<Uint8Array> {
  if (packets.length === 0 || packets[0]?.kind === "flush") return;
  const delim = packets.findIndex((packet) => packet.kind === "delim");
  const flush = packets.findIndex((packet) => packet.kind === "flush");
  const end = flush < 0 ? packets.length : flush;
  const head = packets.slice(0, delim >= 0 && delim < end ? delim : end).map(packetText);
  const args = delim >= 0 && delim < end ? packets.slice(delim + 1, end).map(packetText) : [];
  const command = head[0]?.startsWith("command=") ? head[0].slice(8) : null;
  for (const capability of head.slice(1)) {
    const key = capability.split("=")[0] ?? "";
    if (!["agent", "object-format", "server-option", "session-id"].includes(key)) {
      throw new UploadPackError(`unknown capability "${capability.slice(0, 60)}"`);
    }
    if (key === "object-format" && capability !== "object-format=sha1") {
      throw new UploadPackError(`unsupported ${capability.slice(0, 60)}`);
    }
  }
  if (command === "ls-refs") yield lsRefs(args, snapshot.head);
  else if (command === "fetch") yield* fetchV2(args, snapshot, limits);
  else throw new UploadPackError(`unknown command "${(command ?? head[0] ?? "").slice(0, 60)}"`);
}

function lsRefs(args: string[], head: string | null): Uint8Array {
  const symrefs = args.includes("symrefs");
  const unborn = args.includes("unborn");
  const prefixes = args.filter((arg) => arg.startsWith("ref-prefix ")).map((arg) => arg.slice(11));
  for (const arg of args) {
    if (!["symrefs", "peel", "unborn"].includes(arg) && !arg.startsWith("ref-prefix ")) {
      throw new UploadPackError(`unexpected ls-refs argument "${arg.slice(0, 60)}"`);
    }
  }
  const matches = (name: string) =>
    prefixes.length === 0 || prefixes.some((prefix) => name.startsWith(prefix));
  const target = symrefs ? ` symref-target:${MAIN_BRANCH}` : "";
  const lines: Uint8Array[] = [];
  if (matches("HEAD") && (head !== null || unborn)) {
    lines.push(pktText(`${head ?? "unborn"} HEAD${target}`));
  }
  if (head !== null && matches(MAIN_BRANCH)) lines.push(pktText(`${head} ${MAIN_BRANCH}`));
  return concatBytes([...lines, FLUSH_PKT]);
}

async function* fetchV2(
  args: string[],
  snapshot: Snapshot,
  limits: UploadPackLimits,
): AsyncGenerator<Uint8Array> {
  const request = parseV2Fetch(args, limits);
  if (request.wants.length === 0) {
    yield FLUSH_PKT;
    return;
  }
  const plan = planFetch(request, snapshot);
  const out: Uint8Array[] = [];
  if (!request.done && request.haves.length > 0) {
    out.push(pktText("acknowledgments"));
    if (plan.commons.length === 0) out.push(pktText("NAK"));
    for (const oid of plan.commons) out.push(pktText(`ACK ${oid}`));
    if (plan.commons.length === 0) {
      out.push(FLUSH_PKT);
      yield concatBytes(out);
      return;
    }
    out.push(pktText("ready"), DELIM_PKT);
  }
  if (request.depth > 0 || request.deepenSince !== null || request.shallows.length > 0) {
    out.push(pktText("shallow-info"), shallowLines(plan, DELIM_PKT));
  }
  out.push(pktText("packfile"));
  yield concatBytes(out);
  yield* sendPackfile(snapshot.cache, plan, request.format, MAX_PKT_LENGTH, limits.deadline);
}

function parseV2Fetch(args: string[], limits: UploadPackLimits): FetchRequest {
  const request: FetchRequest = {
    wants: [],
    haves: [],
    shallows: [],
    depth: 0,
    deepenRelative: false,
    deepenSince: null,
    done: false,
    format: { thin: false, ofsDelta: false },
    sideBand: MAX_PKT_LENGTH,
  };
  for (const arg of args) {
    const [word = "", value = ""] = arg.split(" ");
    if (word === "want") request.wants.push(checkedOid(value, arg));
    else if (word === "have") {
      request.haves.push(checkedOid(value, arg));
      if (request.haves.length > limits.maxHaves) {
        throw new UploadPackError(`more than ${limits.maxHaves} haves`);
      }
    } else if (word === "shallow") request.shallows.push(checkedOid(value, arg));
    else if (word === "deepen") request.depth = checkedDepth(value);
    else if (word === "deepen-since") request.deepenSince = checkedTime(value);
    else if (arg === "deepen-relative") request.deepenRelative = true;
    else if (arg === "done") request.done = true;
    else if (arg === "thin-pack") request.format.thin = true;
    else if (arg === "ofs-delta") request.format.ofsDelta = true;
    else if (arg === "no-progress" || arg === "include-tag") continue;
    else throw new UploadPackError(`unsupported fetch argument "${arg.slice(0, 60)}"`);
  }
  checkCounts(request.wants.length, request.shallows.length, limits);
  if (request.depth > 0 && request.deepenSince !== null) {
    throw new UploadPackError("deepen and deepen-since cannot be used together");
  }
  return request;
}

/**
 * Works out the pack from wants, haves and shallow lines, following
 * upload-pack: the commits reachable from the wants, minus what the common
 * haves reach, cut at the client's shallow commits or the requested depth.
 */
function planFetch(request: FetchRequest, snapshot: Snapshot): FetchPlan {
  const { cache } = snapshot;
  let top = -1;
  for (const want of request.wants) {
    const position = commitPosition(snapshot, want);
    if (position === null) throw new UploadPackError(`upload-pack: not our ref ${want}`);
    top = Math.max(top, position);
  }
  const shallowPositions = new Map<string, number>();
  for (const oid of request.shallows) {
    const position = commitPosition(snapshot, oid);
    if (position !== null) shallowPositions.set(oid, position);
  }
  const commons = request.haves.filter((oid, i, all) =>
    all.indexOf(oid) === i && commitPosition(snapshot, oid) !== null
  );
  let high = -1;
  for (const oid of commons) high = Math.max(high, cache.position(oid) ?? -1);
  let low = 0;
  for (const position of shallowPositions.values()) {
    if (position <= high) low = Math.max(low, position);
  }
  const client = high < 0 ? null : { low, high };
  const cut = depthCut(request, cache, top, [...shallowPositions.values()]);
  const shallow: string[] = [];
  const unshallow: string[] = [];
  if (cut !== null) {
    const boundary = cut.shallow ? cache.commitOid(cut.bottom) : null;
    if (boundary !== null && !shallowPositions.has(boundary)) shallow.push(boundary);
    for (const [oid, position] of shallowPositions) {
      if (position > cut.bottom && position <= top) unshallow.push(oid);
    }
  }
  let bottom = cut?.bottom ?? 0;
  if (cut === null) {
    for (const position of shallowPositions.values()) {
      if (position <= top) bottom = Math.max(bottom, position);
    }
  }
  return { top, bottom, client, shallow, unshallow, commons };
}

/** The oldest commit a depth request keeps, and whether it is cut from its parent. */
function depthCut(
  request: FetchRequest,
  cache: PackCache,
  top: number,
  shallows: number[],
): { bottom: number; shallow: boolean } | null {
  if (request.deepenSince !== null) {
    const since = request.deepenSince;
    if (cache.commitTime(top) < since) {
      throw new UploadPackError("no commits selected for shallow requests");
    }
    let bottom = top;
    while (bottom > 0 && cache.commitTime(bottom - 1) >= since) bottom--;
    return { bottom, shallow: bottom > 0 };
  }
  if (request.depth === 0) return null;
  if (request.depth >= INFINITE_DEPTH) return { bottom: 0, shallow: false };
  const reference = request.deepenRelative && shallows.length > 0
    ? Math.min(...shallows) - request.depth
    : top - request.depth + 1;
  return reference < 0 ? { bottom: 0, shallow: false } : { bottom: reference, shallow: true };
}

function shallowLines(plan: FetchPlan, end: Uint8Array): Uint8Array {
  return concatBytes([
    ...plan.shallow.map((oid) => pktText(`shallow ${oid}`)),
    ...plan.unshallow.map((oid) => pktText(`unshallow ${oid}`)),
    end,
  ]);
}

async function* sendPackfile(
  cache: PackCache,
  plan: FetchPlan,
  format: PackFormat,
  band: FetchRequest["sideBand"],
  deadline = Infinity,
): AsyncGenerator<Uint8Array> {
  if (plan.top < 0) throw new UploadPackError("nothing to send: the history is empty");
  const entries = await planPack(cache, plan);
  try {
    for await (const chunk of packBytes(cache, entries, plan.client, format, chunkBytes(band))) {
      if (Date.now() > deadline) {
        throw new UploadPackError("the time limit of this request is over");
      }
      yield band === 0 ? chunk : sideBand(1, chunk, band);
    }
  } catch (error) {
    if (band === 0) throw error;
    const why = error instanceof Error ? error.message : String(error);
    yield sideBand(3, encoder.encode(`upload-pack: ${why}\n`), band);
    return;
  }
  if (band !== 0) yield FLUSH_PKT;
}

/**
 * Pack bytes per chunk: whole side-band packets of about 64 KiB, so that
 * each chunk is framed into one buffer of that size and no larger buffers
 * pass through memory.
 */
function chunkBytes(band: FetchRequest["sideBand"]): number {
  if (band === 0) return CHUNK_BYTES;
  const room = band - 5;
  return room * Math.max(1, Math.floor(CHUNK_BYTES / room));
}

/** The position of a commit of the snapshot's history, or null. */
function commitPosition(snapshot: Snapshot, oid: string): number | null {
  const position = snapshot.cache.position(oid);
  const head = snapshot.head === null ? undefined : snapshot.cache.position(snapshot.head);
  return position === undefined || head === undefined || position > head ? null : position;
}

function checkCounts(wants: number, shallows: number, limits: UploadPackLimits): void {
  if (wants > limits.maxWants) throw new UploadPackError(`more than ${limits.maxWants} wants`);
  if (shallows > limits.maxShallows) {
    throw new UploadPackError(`more than ${limits.maxShallows} shallow lines`);
  }
}

function checkedOid(value: string, line: string): string {
  if (!OID.test(value)) throw new UploadPackError(`invalid object id in "${line.slice(0, 60)}"`);
  return value;
}

function checkedDepth(value: string): number {
  const depth = Number(value);
  if (!/^\d{1,10}$/.test(value) || depth < 1) {
    throw new UploadPackError(`invalid deepen "${value.slice(0, 20)}"`);
  }
  return Math.min(depth, INFINITE_DEPTH);
}

function checkedTime(value: string): number {
  if (!/^\d{1,15}$/.test(value)) {
    throw new UploadPackError(`invalid deepen-since "${value.slice(0, 20)}"`);
  }
  return Number(value);
}

function errPacket(error: unknown): Uint8Array {
  const why = error instanceof Error ? error.message : String(error);
  return pktText(`ERR ${why}`);
}
