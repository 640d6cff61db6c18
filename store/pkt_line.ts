/**
 * Git's pkt-line framing (gitprotocol-common): a four-digit hexadecimal
 * length that counts itself, then the payload; `0000` flush, `0001`
 * delimiter and `0002` response-end packets carry no payload.
 */

/** Largest pkt-line, length prefix included. */
export const MAX_PKT_LENGTH = 65520;
/** Largest payload of one pkt-line. */
export const MAX_PKT_PAYLOAD = MAX_PKT_LENGTH - 4;

/** One packet read from a request. */
export type Packet =
  | { kind: "data"; data: Uint8Array }
  | { kind: "flush" }
  | { kind: "delim" }
  | { kind: "response-end" };

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const HEX = "0123456789abcdef";

/** The flush packet: end of a message. */
export const FLUSH_PKT: Uint8Array = encoder.encode("0000");
/** The delimiter packet: end of a section (protocol v2). */
export const DELIM_PKT: Uint8Array = encoder.encode("0001");

/** A data packet holding `payload`; text gets no newline added. */
export function pktLine(payload: string | Uint8Array): Uint8Array {
  const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
  if (bytes.length > MAX_PKT_PAYLOAD) {
    throw new Error(`Cannot frame a pkt-line of ${bytes.length} bytes: at most ${MAX_PKT_PAYLOAD}`);
  }
  const packet = new Uint8Array(bytes.length + 4);
  writeLength(packet, 0, bytes.length + 4);
  packet.set(bytes, 4);
  return packet;
}

/** A data packet holding `text` and a newline. */
export function pktText(text: string): Uint8Array {
  return pktLine(`${text}\n`);
}

/**
 * Frames `data` on side-band `band` (1 pack data, 2 progress, 3 error) in
 * packets of at most `maxPacket` bytes, all in one buffer.
 */
export function sideBand(
  band: 1 | 2 | 3,
  data: Uint8Array,
  maxPacket = MAX_PKT_LENGTH,
): Uint8Array {
  const room = maxPacket - 5;
  const packets = Math.max(1, Math.ceil(data.length / room));
  const out = new Uint8Array(data.length + packets * 5);
  let at = 0;
  for (let start = 0; start < data.length || at === 0; start += room) {
    const piece = data.subarray(start, Math.min(data.length, start + room));
    writeLength(out, at, piece.length + 5);
    out[at + 4] = band;
    out.set(piece, at + 5);
    at += piece.length + 5;
  }
  return out;
}

/** Concatenates byte arrays. */
export function concatBytes(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Splits a whole request body into packets; throws on a malformed length. */
export function parsePackets(body: Uint8Array): Packet[] {
  const packets: Packet[] = [];
  let at = 0;
  while (at < body.length) {
    if (at + 4 > body.length) {
      throw new Error(`Cannot read pkt-line at byte ${at}: truncated length`);
    }
    const length = readLength(body, at);
    if (length === 0) packets.push({ kind: "flush" });
    else if (length === 1) packets.push({ kind: "delim" });
    else if (length === 2) packets.push({ kind: "response-end" });
    else if (length < 4 || at + length > body.length) {
      throw new Error(`Cannot read pkt-line at byte ${at}: length ${length} is invalid`);
    } else packets.push({ kind: "data", data: body.subarray(at + 4, at + length) });
    at += length < 4 ? 4 : length;
  }
  return packets;
}

/** A data packet's payload as text without its trailing newline. */
export function packetText(packet: Packet): string {
  if (packet.kind !== "data") return "";
  const text = decoder.decode(packet.data);
  return text.endsWith("\n") ? text.slice(0, -1) : text;
}

function writeLength(out: Uint8Array, at: number, length: number): void {
  out[at] = HEX.charCodeAt((length >> 12) & 15);
  out[at + 1] = HEX.charCodeAt((length >> 8) & 15);
  out[at + 2] = HEX.charCodeAt((length >> 4) & 15);
  out[at + 3] = HEX.charCodeAt(length & 15);
}

function readLength(body: Uint8Array, at: number): number {
  let length = 0;
  for (let i = 0; i < 4; i++) {
    const digit = hexValue(body[at + i] ?? 0);
    if (digit < 0) throw new Error(`Cannot read pkt-line at byte ${at}: length is not hexadecimal`);
    length = length * 16 + digit;
  }
  return length;
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}
