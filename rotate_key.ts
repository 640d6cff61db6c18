/**
 * The operator's key rotation: `deno task rotate-key [--data-dir <dir>]`.
 *
 * Opens the data directory (refused while the service runs: it holds the
 * data lock), makes a new signing key and records a `key-rotated` event,
 * signed by the new key, whose keys/allowed_signers ends the old key's
 * validity one second before the event and starts the new key's at it.
 * Earlier commits stay valid under the old key. The retired private key is
 * deleted. The data directory is `--data-dir`, else AKKOORD_DATA_DIR, else
 * `./data`. With AKKOORD_STORE=kv and no `--data-dir` it only explains the
 * procedure for a history in Deno KV.
 */
import { COMMITTER } from "./server.ts";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { SYSTEM_ACTOR } from "./domain/actor.ts";
import { eventCommit } from "./domain/event.ts";
import { rotateSigningKey } from "./store/disk_store.ts";

const encoder = new TextEncoder();

/** What to do instead when the service's history is in Deno KV (README, "Deno KV"). */
const KV_ROTATION = [
  "AKKOORD_STORE is kv: the history is in Deno KV, not in a data directory, so",
  "rotate-key cannot rotate it in place. Rotate through an exported copy:",
  "  1. deno task export <copy>/history.git --kv <database>",
  "  2. put the current AKKOORD_SIGNING_KEY in <copy>/signing_key (mode 0600)",
  "  3. deno task rotate-key --data-dir <copy>",
  "  4. deno task import <copy> --kv <database>",
  "  5. restart every instance with <copy>/signing_key as AKKOORD_SIGNING_KEY",
  'See "Deno KV" in README.md. A development key that Akkoord generated and kept in',
  "the database cannot be rotated: set AKKOORD_SIGNING_KEY for a history meant to last.",
  "",
].join("\n");

/** Rotates the key of the data directory named by `args` or the environment; resolves the exit code. */
export async function main(args: string[]): Promise<number> {
  const flag = args.indexOf("--data-dir");
  if (flag < 0 && Deno.env.get("AKKOORD_STORE") === "kv") {
    write(Deno.stderr, KV_ROTATION);
    return 2;
  }
  const dir = flag >= 0 ? args[flag + 1] : Deno.env.get("AKKOORD_DATA_DIR") ?? "./data";
  if (dir === undefined || args.length !== (flag >= 0 ? 2 : 0)) {
    write(Deno.stderr, "Usage: deno task rotate-key [--data-dir <dir>]\n");
    return 2;
  }
  try {
    const rotation = await rotateSigningKey({
      dir,
      committer: COMMITTER,
      describe: (rotation) =>
        eventCommit({
          kind: "key-rotated",
          subject: "Rotate the service's signing key",
          trailers: [
            ["Retired-Key", fingerprint(rotation.retiredKey)],
            ["Active-Key", fingerprint(rotation.activeKey)],
            ["Valid-After", rotation.validAfter],
          ],
          actor: SYSTEM_ACTOR,
          at: rotation.at,
          files: new Map(),
        }),
    });
    write(
      Deno.stdout,
      `Rotated the signing key of "${dir}" in commit ${rotation.oid}.\n` +
        `Retired: ${fingerprint(rotation.retiredKey)}\n` +
        `Active:  ${fingerprint(rotation.activeKey)} (valid from ${rotation.validAfter})\n` +
        `keys/allowed_signers is now:\n${rotation.allowedSigners}` +
        "The service publishes it at /.well-known/akkoord/allowed_signers once it runs again.\n",
    );
    return 0;
  } catch (error) {
    write(Deno.stderr, `${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

/** The `SHA256:...` fingerprint of an OpenSSH public key text, as ssh-keygen prints it. */
function fingerprint(publicKey: string): string {
  const blob = Buffer.from(publicKey.split(" ")[1] ?? "", "base64");
  return "SHA256:" + createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
}

function write(stream: { writeSync(bytes: Uint8Array): number }, text: string): void {
  stream.writeSync(encoder.encode(text));
}

if (import.meta.main) Deno.exit(await main(Deno.args));
