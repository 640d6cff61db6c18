/**
 * The allowed_signers file of `ssh-keygen -Y verify` (see the ALLOWED SIGNERS
 * section of ssh-keygen(1)): which key may sign for which principal, in which
 * namespaces, and between which times.
 */
import { createHash } from "node:crypto";

/** One line of an allowed_signers file. */
export interface AllowedSigner {
  /** 1-based line number, for messages. */
  line: number;
  /** The principals pattern-list, e.g. `akkoord@history`. */
  principals: string;
  /** The `namespaces` pattern-list, or null when the line does not restrict it. */
  namespaces: string | null;
  /** `valid-after` in seconds since the epoch, inclusive. */
  validAfter: number | null;
  /** `valid-before` in seconds since the epoch, inclusive. */
  validBefore: number | null;
  certAuthority: boolean;
  keyType: string;
  /** The SSH wire form of the public key. */
  keyBlob: Uint8Array;
}

/** What a signature needs from allowed_signers. */
export interface SignerQuery {
  keyBlob: Uint8Array;
  principal: string;
  namespace: string;
  /** The time the signature claims (the committer time), seconds since the epoch. */
  time: number;
}

/** The line that allows a signature, or why none does. */
export type SignerMatch = { ok: true; signer: AllowedSigner } | { ok: false; reason: string };

const KEY_TYPE = /^(ssh-|ecdsa-|sk-|rsa-sha2-)/;
const TIMESTAMP = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(Z?)$/;

/**
 * Parses an allowed_signers file. Comments and blank lines are skipped; a
 * line that cannot be read throws, naming `source` and the line number.
 */
export function parseAllowedSigners(text: string, source: string): AllowedSigner[] {
  const signers: AllowedSigner[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    try {
      signers.push(parseLine(line, index + 1));
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new Error(`Cannot read allowed signers "${source}" line ${index + 1}: ${why}`);
    }
  });
  return signers;
}

/**
 * Finds the line that lets `query.keyBlob` sign for the principal and
 * namespace at `query.time`, as `ssh-keygen -Y verify -Overify-time` does.
 * Certificate authorities are skipped: the history is signed with plain keys.
 */
export function findSigner(signers: AllowedSigner[], query: SignerQuery): SignerMatch {
  const listed = signers.filter((s) => !s.certAuthority && sameBytes(s.keyBlob, query.keyBlob));
  const fingerprint = keyFingerprint(query.keyBlob);
  if (listed.length === 0) return { ok: false, reason: `key ${fingerprint} is not listed` };
  const forPrincipal = listed.filter((s) => matchesPatternList(query.principal, s.principals));
  if (forPrincipal.length === 0) {
    return {
      ok: false,
      reason: `key ${fingerprint} is listed, but not for principal "${query.principal}"`,
    };
  }
  const inNamespace = forPrincipal.filter((s) =>
    s.namespaces === null || matchesPatternList(query.namespace, s.namespaces)
  );
  if (inNamespace.length === 0) {
    return {
      ok: false,
      reason: `key ${fingerprint} is not allowed for namespace "${query.namespace}"`,
    };
  }
  const valid = inNamespace.find((s) => isValidAt(s, query.time));
  if (valid !== undefined) return { ok: true, signer: valid };
  const windows = inNamespace.map(describeWindow).join("; ");
  return {
    ok: false,
    reason: `key ${fingerprint} was not valid at ${formatTime(query.time)} (${windows})`,
  };
}

/** Whether a line allows signatures at `time` (both bounds inclusive). */
export function isValidAt(signer: AllowedSigner, time: number): boolean {
  if (signer.validAfter !== null && time < signer.validAfter) return false;
  if (signer.validBefore !== null && time > signer.validBefore) return false;
  return true;
}

/** The `SHA256:...` fingerprint `ssh-keygen -l` prints for a key blob. */
export function keyFingerprint(keyBlob: Uint8Array): string {
  return "SHA256:" + createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "");
}

/**
 * Matches a name against an OpenSSH pattern-list: comma-separated patterns
 * with `*` and `?`; a pattern starting with `!` that matches rejects the name.
 */
export function matchesPatternList(name: string, list: string): boolean {
  let matched = false;
  for (const pattern of list.split(",")) {
    const negated = pattern.startsWith("!");
    if (!globMatches(name, negated ? pattern.slice(1) : pattern)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** A time as `2026-12-04T12:00:00Z`. */
export function formatTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
}

function parseLine(line: string, number: number): AllowedSigner {
  const fields = splitFields(line);
  const principals = unquote(fields.shift() ?? "");
  let options = "";
  if (fields[0] !== undefined && !KEY_TYPE.test(fields[0])) options = fields.shift() ?? "";
  const keyType = fields.shift();
  const keyText = fields.shift();
  if (principals === "" || keyType === undefined || keyText === undefined) {
    throw new Error("expected principals, options, key type and key");
  }
  const keyBlob = decodeBase64(keyText);
  const signer: AllowedSigner = {
    line: number,
    principals,
    namespaces: null,
    validAfter: null,
    validBefore: null,
    certAuthority: false,
    keyType,
    keyBlob,
  };
  for (const option of splitOutsideQuotes(options, ",").filter((o) => o !== "")) {
    applyOption(signer, option);
  }
  return signer;
}

function applyOption(signer: AllowedSigner, option: string): void {
  const equals = option.indexOf("=");
  const name = (equals < 0 ? option : option.slice(0, equals)).toLowerCase();
  const value = equals < 0 ? null : unquote(option.slice(equals + 1));
  if (name === "cert-authority" && value === null) {
    signer.certAuthority = true;
  } else if (name === "namespaces" && value !== null) {
    signer.namespaces = value;
  } else if (name === "valid-after" && value !== null) {
    signer.validAfter = parseTimestamp(value);
  } else if (name === "valid-before" && value !== null) {
    signer.validBefore = parseTimestamp(value);
  } else {
    throw new Error(`unknown option "${option}"`);
  }
}

/** YYYYMMDD[Z] or YYYYMMDDHHMM[SS][Z]; without Z in the local time zone, as ssh-keygen reads it. */
function parseTimestamp(value: string): number {
  const match = TIMESTAMP.exec(value);
  if (match === null) throw new Error(`"${value}" is not a timestamp like 20261204120000Z`);
  const [y, mo, d, h, mi, s] = match.slice(1, 7).map((part) => Number(part ?? 0)) as number[];
  const millis = match[7] === "Z"
    ? Date.UTC(y!, mo! - 1, d!, h!, mi!, s!)
    : new Date(y!, mo! - 1, d!, h!, mi!, s!).getTime();
  return Math.floor(millis / 1000);
}

function describeWindow(signer: AllowedSigner): string {
  const after = signer.validAfter === null ? "any time" : formatTime(signer.validAfter);
  const before = signer.validBefore === null ? "any time" : formatTime(signer.validBefore);
  return `line ${signer.line}: from ${after} to ${before}`;
}

function splitFields(line: string): string[] {
  return splitOutsideQuotes(line, " ").map((field) => field.trim()).filter((f) => f !== "");
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (const char of text) {
    if (char === '"') quoted = !quoted;
    if (!quoted && (char === separator || (separator === " " && char === "\t"))) {
      parts.push(current);
      current = "";
      continue;
    }
    current += char;
  }
  if (quoted) throw new Error("a quote is not closed");
  parts.push(current);
  return parts;
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"')
    ? value.slice(1, -1)
    : value;
}

function globMatches(name: string, pattern: string): boolean {
  if (!/[*?]/.test(pattern)) return name === pattern;
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(
    /\?/g,
    ".",
  );
  return new RegExp(`^${source}$`, "s").test(name);
}

function decodeBase64(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new Error(`"${text}" is not base64`);
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
