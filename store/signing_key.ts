/**
 * The service's Ed25519 signing key, kept as an unencrypted OpenSSH private
 * key file (the format `ssh-keygen` reads and writes), mode 0600.
 * Format: https://github.com/openssh/openssh-portable/blob/master/PROTOCOL.key
 */
import { Buffer } from "node:buffer";
import { dirname } from "node:path";
import { syncDirectory, writeFileDurably } from "./durable_file.ts";
import {
  armor,
  concat,
  publicKeyBlob,
  SIGNER_PRINCIPAL,
  type SigningKey,
  sshPublicKey,
  sshString,
  uint32,
  unarmor,
} from "./sshsig.ts";

const LABEL = "OPENSSH PRIVATE KEY";
const AUTH_MAGIC = "openssh-key-v1\0";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Loads the key at `path`, or creates it (mode 0600, written durably) when
 * the file does not exist. Refuses a key file that group or others may read.
 */
export async function loadOrCreateSigningKey(path: string): Promise<SigningKey> {
  try {
    return await loadSigningKey(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const { key, file } = await generateSigningKey();
  await writeFileDurably(path, encoder.encode(file), 0o600);
  return key;
}

/** Loads an unencrypted OpenSSH Ed25519 private key file that only its owner may read. */
export async function loadSigningKey(path: string): Promise<SigningKey> {
  const info = await Deno.stat(path);
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
    throw new Error(
      `Cannot load signing key "${path}": its mode ${mode} lets others read it (chmod 600 it)`,
    );
  }
  return await importOpenSshKey(path, await Deno.readTextFile(path));
}

/** Generates a key pair and its OpenSSH private key file text. */
export async function generateSigningKey(): Promise<{ key: SigningKey; file: string }> {
  const pair = await crypto.subtle.generateKey("Ed25519", true, ["sign", "verify"]);
  const jwk = await crypto.subtle.exportKey("jwk", (pair as CryptoKeyPair).privateKey);
  const seed = fromBase64Url(jwk.d ?? "");
  const publicKey = fromBase64Url(jwk.x ?? "");
  const privateKey = await importPrivateKey(seed, publicKey);
  return { key: { privateKey, publicKey }, file: encodeOpenSshKey(seed, publicKey) };
}

/** Where the next key waits while a rotation is under way: `<key path>.next`. */
export function nextKeyPath(path: string): string {
  return `${path}.next`;
}

/**
 * Starts a rotation: writes a new key to {@link nextKeyPath} (mode 0600,
 * durably), replacing one an abandoned rotation left there.
 */
export async function createNextSigningKey(path: string): Promise<SigningKey> {
  const { key, file } = await generateSigningKey();
  await writeFileDurably(nextKeyPath(path), encoder.encode(file), 0o600);
  return key;
}

/**
 * Ends a rotation whose commit is durable: the next key is renamed over the
 * key file and the directory flushed. The retired private key is gone.
 */
export async function activateNextSigningKey(path: string): Promise<void> {
  await Deno.rename(nextKeyPath(path), path);
  await syncDirectory(dirname(path));
}

/**
 * The key to sign with, given the allowed_signers at head. A rotation that a
 * crash interrupted is finished when its commit landed (allowed_signers lists
 * the next key as active) and abandoned otherwise. Refuses a key that
 * allowed_signers retired, whose signatures would not verify.
 */
export async function settleSigningKey(
  path: string,
  key: SigningKey,
  allowedSigners: string | null,
): Promise<SigningKey> {
  const next = await loadSigningKey(nextKeyPath(path)).catch((error) => {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  });
  if (next !== null && allowedSigners !== null && keyState(allowedSigners, next) === "active") {
    await activateNextSigningKey(path);
    return next;
  }
  if (next !== null) await Deno.remove(nextKeyPath(path));
  if (allowedSigners !== null && keyState(allowedSigners, key) === "retired") {
    throw new Error(
      `Cannot use signing key "${path}": keys/allowed_signers retired it (valid-before), ` +
        "so its signatures would not verify; restore the active key",
    );
  }
  return key;
}

/**
 * allowed_signers after a rotation at `at`: every line of the retired key
 * gets `valid-before` one second before `at` (both bounds are inclusive in
 * ssh-keygen), and a line for the active key `valid-after` `at` is added.
 */
export function rotatedAllowedSigners(
  text: string,
  retired: Uint8Array,
  active: Uint8Array,
  at: Date,
): string {
  const retiredKey = sshPublicKey(retired);
  const before = signersTimestamp(new Date(at.getTime() - 1000));
  const lines = text.split("\n").filter((line) => line.trim() !== "").map((line) => {
    if (!listsKey(line, retiredKey) || /valid-before=/i.test(line)) return line;
    const [principals, options, ...rest] = line.trim().split(/\s+/);
    if (options === undefined || options.startsWith("ssh-")) {
      return [principals, `valid-before="${before}"`, options, ...rest].join(" ");
    }
    return [principals, `${options},valid-before="${before}"`, ...rest].join(" ");
  });
  const after = signersTimestamp(at);
  lines.push(
    `${SIGNER_PRINCIPAL} namespaces="git",valid-after="${after}" ${sshPublicKey(active)}`,
  );
  return lines.join("\n") + "\n";
}

/** A time as allowed_signers writes it: `YYYYMMDDhhmmssZ`, UTC. */
export function signersTimestamp(at: Date): string {
  return at.toISOString().replace(/\.\d+Z$/, "Z").replace(/[-:T]/g, "");
}

function keyState(allowedSigners: string, key: SigningKey): "active" | "retired" | "absent" {
  const lines = allowedSigners.split("\n").filter((line) =>
    listsKey(line, sshPublicKey(key.publicKey))
  );
  if (lines.length === 0) return "absent";
  return lines.some((line) => !/valid-before=/i.test(line)) ? "active" : "retired";
}

function listsKey(line: string, publicKey: string): boolean {
  return ` ${line.trim()} `.includes(` ${publicKey} `);
}

function encodeOpenSshKey(seed: Uint8Array, publicKey: Uint8Array): string {
  const check = crypto.getRandomValues(new Uint8Array(4));
  const section = concat(
    check,
    check,
    sshString("ssh-ed25519"),
    sshString(publicKey),
    sshString(concat(seed, publicKey)),
    sshString(SIGNER_PRINCIPAL),
  );
  const padding = Uint8Array.from({ length: (8 - (section.length % 8)) % 8 }, (_, i) => i + 1);
  const body = concat(
    encoder.encode(AUTH_MAGIC),
    sshString("none"),
    sshString("none"),
    sshString(""),
    uint32(1),
    sshString(publicKeyBlob(publicKey)),
    sshString(concat(section, padding)),
  );
  return armor(LABEL, body);
}

/**
 * Reads an unencrypted OpenSSH Ed25519 private key from its text; `source`
 * names where it came from in error messages, which never quote the key.
 */
export async function importOpenSshKey(source: string, text: string): Promise<SigningKey> {
  const reader = new WireReader(unarmor(LABEL, text));
  const fail = (why: string) => new Error(`Cannot load signing key "${source}": ${why}`);
  if (decoder.decode(reader.bytes(AUTH_MAGIC.length)) !== AUTH_MAGIC) {
    throw fail("not an OpenSSH private key");
  }
  const cipher = reader.text();
  const kdf = reader.text();
  reader.string();
  if (cipher !== "none" || kdf !== "none") throw fail(`it is encrypted (cipher "${cipher}")`);
  if (reader.uint32() !== 1) throw fail("it holds more than one key");
  reader.string();
  const section = new WireReader(reader.string());
  if (section.uint32() !== section.uint32()) throw fail("its check bytes differ");
  const type = section.text();
  if (type !== "ssh-ed25519") throw fail(`its type is "${type}", not ssh-ed25519`);
  const publicKey = section.string();
  const secret = section.string();
  if (publicKey.length !== 32 || secret.length !== 64) throw fail("its key sizes are wrong");
  const privateKey = await importPrivateKey(secret.subarray(0, 32), publicKey);
  await assertPair(privateKey, publicKey, fail);
  return { privateKey, publicKey };
}

async function importPrivateKey(seed: Uint8Array, publicKey: Uint8Array): Promise<CryptoKey> {
  const jwk = { kty: "OKP", crv: "Ed25519", d: toBase64Url(seed), x: toBase64Url(publicKey) };
  return await crypto.subtle.importKey("jwk", jwk, "Ed25519", false, ["sign"]);
}

async function assertPair(
  privateKey: CryptoKey,
  publicKey: Uint8Array,
  fail: (why: string) => Error,
): Promise<void> {
  const probe = encoder.encode("akkoord key check");
  const signature = await crypto.subtle.sign("Ed25519", privateKey, probe);
  const verifier = await crypto.subtle.importKey("raw", publicKey.slice(), "Ed25519", false, [
    "verify",
  ]);
  if (!(await crypto.subtle.verify("Ed25519", verifier, signature, probe))) {
    throw fail("its public key does not match its private key");
  }
}

class WireReader {
  #bytes: Uint8Array;
  #offset = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  bytes(length: number): Uint8Array {
    if (this.#offset + length > this.#bytes.length) {
      throw new Error("Cannot read SSH key data: it ends early");
    }
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

  text(): string {
    return decoder.decode(this.string());
  }
}

function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}

function fromBase64Url(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64url"));
}
