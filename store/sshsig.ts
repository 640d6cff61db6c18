/**
 * SSH signatures (SSHSIG) made with WebCrypto Ed25519, in the armored form
 * `ssh-keygen -Y sign` writes and `git verify-commit` with `gpg.format=ssh`
 * checks. Layout: https://github.com/openssh/openssh-portable/blob/master/PROTOCOL.sshsig
 */
import { Buffer } from "node:buffer";
import { createHash, KeyObject, sign } from "node:crypto";

/** An Ed25519 key pair: the WebCrypto private key and the raw 32-byte public key. */
export interface SigningKey {
  privateKey: CryptoKey;
  publicKey: Uint8Array;
}

/** The principal the service signs as in `keys/allowed_signers`. */
export const SIGNER_PRINCIPAL = "akkoord@history";

const KEY_TYPE = "ssh-ed25519";
const MAGIC = "SSHSIG";
const HASH = "sha512";
const encoder = new TextEncoder();
const keyObjects = new WeakMap<CryptoKey, KeyObject>();

/**
 * Signs `payload` for `namespace` (default `git`) and returns the armored
 * signature, base64 wrapped at 70 columns, ending in a newline.
 */
export function signSshsig(
  key: SigningKey,
  payload: Uint8Array,
  namespace = "git",
): string {
  const digest = createHash("sha512").update(payload).digest();
  const signed = concat(
    encoder.encode(MAGIC),
    sshString(namespace),
    sshString(""),
    sshString(HASH),
    sshString(digest),
  );
  const signature = new Uint8Array(sign(null, signed, keyObject(key.privateKey)));
  const blob = concat(
    encoder.encode(MAGIC),
    uint32(1),
    sshString(publicKeyBlob(key.publicKey)),
    sshString(namespace),
    sshString(""),
    sshString(HASH),
    sshString(concat(sshString(KEY_TYPE), sshString(signature))),
  );
  return armor("SSH SIGNATURE", blob);
}

/**
 * The key as node:crypto takes it. Signing through node:crypto is
 * synchronous and about three times faster than WebCrypto's promise for the
 * short messages an SSH signature signs; Ed25519 signatures are
 * deterministic, so both give the same bytes.
 */
function keyObject(key: CryptoKey): KeyObject {
  let object = keyObjects.get(key);
  if (object === undefined) {
    object = KeyObject.from(key);
    keyObjects.set(key, object);
  }
  return object;
}

/** The OpenSSH public key text `ssh-ed25519 AAAA...` of a raw Ed25519 public key. */
export function sshPublicKey(publicKey: Uint8Array): string {
  return `${KEY_TYPE} ${toBase64(publicKeyBlob(publicKey))}`;
}

/** One allowed_signers line restricted to the `git` namespace, ending in a newline. */
export function allowedSignersLine(publicKey: Uint8Array, principal = SIGNER_PRINCIPAL): string {
  return `${principal} namespaces="git" ${sshPublicKey(publicKey)}\n`;
}

/** The SSH wire form of an Ed25519 public key. */
export function publicKeyBlob(publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== 32) {
    throw new Error(`Cannot encode Ed25519 public key: it has ${publicKey.length} bytes, not 32`);
  }
  return concat(sshString(KEY_TYPE), sshString(publicKey));
}

/** `-----BEGIN <label>-----`, base64 at 70 columns, `-----END <label>-----` and a newline. */
export function armor(label: string, bytes: Uint8Array): string {
  const base64 = toBase64(bytes);
  const lines = base64.match(/.{1,70}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** The bytes between the armor lines of `label`. */
export function unarmor(label: string, text: string): Uint8Array {
  const match = new RegExp(`-----BEGIN ${label}-----([^-]*)-----END ${label}-----`).exec(text);
  if (match === null) throw new Error(`Cannot read armored data: no "${label}" block found`);
  return new Uint8Array(Buffer.from((match[1] ?? "").replace(/\s+/g, ""), "base64"));
}

/** An SSH wire string: a big-endian uint32 length and the bytes. */
export function sshString(value: string | Uint8Array): Uint8Array {
  const bytes = typeof value === "string" ? encoder.encode(value) : value;
  return concat(uint32(bytes.length), bytes);
}

/** A big-endian uint32. */
export function uint32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value);
  return bytes;
}

/** Joins byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((size, part) => size + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("base64");
}
