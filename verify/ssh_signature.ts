/**
 * Verifies SSH signatures (SSHSIG) of commits without ssh-keygen or the
 * service's code: the armored blob is taken apart by hand and the Ed25519
 * signature checked with WebCrypto.
 * Format: https://github.com/openssh/openssh-portable/blob/master/PROTOCOL.sshsig
 */
import { Buffer } from "node:buffer";
import { type AllowedSigner, findSigner, keyFingerprint } from "./allowed_signers.ts";
import type { CommitObject } from "./commit_object.ts";

/** An SSHSIG blob taken apart. */
export interface SshSignature {
  /** The SSH wire form of the signer's public key. */
  keyBlob: Uint8Array;
  /** The raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
  namespace: string;
  /** The reserved field, signed as it is. */
  reserved: Uint8Array;
  hashAlgorithm: string;
  /** The raw 64-byte Ed25519 signature. */
  signature: Uint8Array;
}

/** A commit's signature verified: by which key, under which allowed_signers line. */
export type SignatureCheck =
  | { ok: true; keyBlob: Uint8Array; fingerprint: string; signer: AllowedSigner }
  | { ok: false; reason: string };

/** What a commit signature must satisfy. */
export interface SignaturePolicy {
  signers: AllowedSigner[];
  principal: string;
}

const MAGIC = "SSHSIG";
const NAMESPACE = "git";
const HASH = "sha512";
const KEY_TYPE = "ssh-ed25519";
const BEGIN = "-----BEGIN SSH SIGNATURE-----";
const END = "-----END SSH SIGNATURE-----";
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const keys = new Map<string, Promise<CryptoKey>>();

/**
 * Checks a commit's `gpgsig`: an SSHSIG over the commit without that header,
 * namespace `git`, hash sha512, a valid Ed25519 signature, and a key that
 * allowed_signers lets sign for the principal at the committer time.
 */
export async function verifyCommitSignature(
  commit: CommitObject,
  policy: SignaturePolicy,
): Promise<SignatureCheck> {
  if (commit.signature === null) return { ok: false, reason: "the commit is not signed" };
  let parsed: SshSignature;
  try {
    parsed = parseSshSignature(commit.signature);
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
  if (parsed.namespace !== NAMESPACE) {
    return { ok: false, reason: `the signature is for namespace "${parsed.namespace}", not git` };
  }
  if (parsed.hashAlgorithm !== HASH) {
    return { ok: false, reason: `the signature hashes with "${parsed.hashAlgorithm}", not sha512` };
  }
  const fingerprint = keyFingerprint(parsed.keyBlob);
  if (!(await verifySshSignature(parsed, commit.payload))) {
    return { ok: false, reason: `the signature by key ${fingerprint} does not match the commit` };
  }
  const match = findSigner(policy.signers, {
    keyBlob: parsed.keyBlob,
    principal: policy.principal,
    namespace: NAMESPACE,
    time: commit.committer.time,
  });
  if (!match.ok) return { ok: false, reason: `allowed_signers refuses it: ${match.reason}` };
  return { ok: true, keyBlob: parsed.keyBlob, fingerprint, signer: match.signer };
}

/** Whether the Ed25519 signature in `parsed` signs `payload` as SSHSIG specifies. */
export async function verifySshSignature(
  parsed: SshSignature,
  payload: Uint8Array,
): Promise<boolean> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-512", payload.slice()));
  const signed = concat([
    encoder.encode(MAGIC),
    sshString(encoder.encode(parsed.namespace)),
    sshString(parsed.reserved),
    sshString(encoder.encode(parsed.hashAlgorithm)),
    sshString(digest),
  ]);
  const key = await importPublicKey(parsed.publicKey);
  return await crypto.subtle.verify("Ed25519", key, parsed.signature.slice(), signed);
}

/** Takes an armored SSH signature apart; throws naming what is malformed. */
export function parseSshSignature(armored: string): SshSignature {
  const blob = unarmor(armored);
  const reader = new WireReader(blob);
  if (text(reader.bytes(MAGIC.length)) !== MAGIC) throw new Error("the SSHSIG magic is missing");
  const version = reader.uint32();
  if (version !== 1) throw new Error(`the SSHSIG version is ${version}, not 1`);
  const keyBlob = reader.string();
  const namespace = text(reader.string());
  const reserved = reader.string();
  const hashAlgorithm = text(reader.string());
  const signatureBlob = reader.string();
  if (!reader.atEnd()) throw new Error("the SSHSIG blob has trailing bytes");

  const keyReader = new WireReader(keyBlob);
  const keyType = text(keyReader.string());
  if (keyType !== KEY_TYPE) throw new Error(`the key type is "${keyType}", not ${KEY_TYPE}`);
  const publicKey = keyReader.string();
  if (publicKey.length !== 32 || !keyReader.atEnd()) {
    throw new Error("the Ed25519 key is malformed");
  }

  const signatureReader = new WireReader(signatureBlob);
  const signatureType = text(signatureReader.string());
  if (signatureType !== KEY_TYPE) {
    throw new Error(`the signature type is "${signatureType}", not ${KEY_TYPE}`);
  }
  const signature = signatureReader.string();
  if (signature.length !== 64 || !signatureReader.atEnd()) {
    throw new Error("the Ed25519 signature is malformed");
  }
  return { keyBlob, publicKey, namespace, reserved, hashAlgorithm, signature };
}

function unarmor(armored: string): Uint8Array {
  const lines = armored.trim().split("\n").map((line) => line.trim());
  if (lines[0] !== BEGIN || lines.at(-1) !== END) {
    throw new Error("the signature is not an armored SSH signature");
  }
  const base64 = lines.slice(1, -1).join("");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) {
    throw new Error("the armored signature is not valid base64");
  }
  return new Uint8Array(Buffer.from(base64, "base64"));
}

function importPublicKey(publicKey: Uint8Array): Promise<CryptoKey> {
  const id = Array.from(publicKey, (b) => b.toString(16).padStart(2, "0")).join("");
  let key = keys.get(id);
  if (key === undefined) {
    key = crypto.subtle.importKey("raw", publicKey.slice(), "Ed25519", false, ["verify"]);
    keys.set(id, key);
  }
  return key;
}

function sshString(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function text(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new Error("a name in the SSHSIG blob is not UTF-8");
  }
}

class WireReader {
  #bytes: Uint8Array;
  #offset = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  bytes(length: number): Uint8Array {
    if (this.#offset + length > this.#bytes.length) throw new Error("the SSHSIG blob ends early");
    const out = this.#bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return out;
  }

  uint32(): number {
    const bytes = this.bytes(4);
    return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
  }

  string(): Uint8Array {
    return this.bytes(this.uint32());
  }

  atEnd(): boolean {
    return this.#offset === this.#bytes.length;
  }
}
