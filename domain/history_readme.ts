import type { Decision } from "../store/history.ts";
import { SYSTEM_ACTOR } from "./actor.ts";
import { eventCommit } from "./event.ts";

/** Where the history repository describes itself. */
export const HISTORY_README_PATH = "README.md";

const FENCE = "```";

/**
 * README.md at the root of the history repository: what an auditor holds and
 * how to verify it, with stock git or with the Akkoord project's verifier.
 */
export const HISTORY_README = [
  "# Akkoord history",
  "",
  "This repository is the complete, signed history of an Akkoord service, in which software",
  "suppliers offer data processing agreements (verwerkersovereenkomsten, GDPR article 28) to Dutch",
  "school boards, and the boards review and sign them. Every commit on `main` is one event; the tree",
  "at a commit is the complete state at that moment. `main` only moves forward, so a copy you keep",
  "is a prefix of every later history.",
  "",
  "## Layout",
  "",
  FENCE,
  "README.md                                  this file",
  "keys/allowed_signers                       the service's public signing keys",
  "boards/<board>.json                        a school board: DUO number, KvK number, name, contact",
  "                                           address, acceptance of the terms of use",
  "suppliers/<supplier>.json                  a supplier: KvK number, name, contact address",
  "suppliers/<supplier>/api_keys/<kid>.json   a public key of the supplier's software for the API,",
  "                                           named by its RFC 7638 thumbprint; marked when revoked",
  "agreements/<board>/<supplier>/status.json  state, current version, version in force, history",
  "agreements/<board>/<supplier>/version/     the current version: title.txt, agreement.md and",
  "                                           products/<product>.json (privacybijsluiters)",
  "agreements/<board>/<supplier>/reminders.json",
  "                                           reminders and escalations sent for the waiting step",
  "invitations/<board>/<id>.json              a board's invitation to a supplier not yet on Akkoord",
  FENCE,
  "",
  "Boards are DUO _bevoegd gezag_ numbers (5 digits), suppliers KvK numbers (8 digits). A new version",
  "overwrites `version/`, so `git log -p -- agreements/<board>/<supplier>/version` shows each revision.",
  "",
  "## Events",
  "",
  "A commit's subject is for people; its trailers are for programs:",
  "",
  FENCE,
  "Event: signed",
  "Agreement: 41344/99000001 version 2",
  "Version-Oid: <tree oid of the version/ directory>",
  "Content-SHA256: <SHA-256 of the version's manifest>",
  "Actor: <eHerkenning acting-subject pseudonym>",
  "Role: ondertekenen",
  "Organisation: <KvK number the person acted for>",
  "Assurance: <eHerkenning assurance level>",
  FENCE,
  "",
  "`Event` is `board-registered`, `supplier-registered`, `terms-accepted` (with `Board` and",
  "`Terms-Version`), `offered` (one `Agreement` per board), `approved`, `rejected` (with `Reason`),",
  "`signed`, `withdrawn`, `readme-updated`, `key-rotated` (with `Retired-Key`, `Active-Key` and",
  "`Valid-After`), `api-key-registered` or `api-key-revoked` (with `Api-Key:",
  "<supplier>/<kid>`), by a person of the supplier, `reminded` or `escalated` (with `Step`, `review`",
  "or `signature`, and `Waiting-Since`), made by the service when a board has not acted in time, or",
  "`supplier-invited` (with `Board` and `Invitation`), when a board invites a supplier. The author is the person who acted, the",
  "committer the service. An act of a supplier's software has the actor `api-key:<kid>` and the",
  "assurance `api-key`. The lifecycle:",
  "offered, then approved by a reviewer (role `beoordelen`), then signed by a signatory (role",
  "`ondertekenen`), both acting for the board's KvK number after the board accepted the terms of use.",
  "A reviewer may reject an offered or approved version; the supplier may withdraw one that is not",
  "signed; a new version voids an earlier approval, and a signed version stays in force until a newer",
  "one is signed.",
  "",
  "## Content hash",
  "",
  "`Version-Oid` is the Git tree oid of `version/`. `Content-SHA256` is the SHA-256 of a manifest with",
  "one line `<SHA-256 of file>  <path>` per file of `version/`, sorted by path, which is what",
  "`sha256sum` prints. Texts are stored canonically: LF line endings, Unicode NFC, no trailing spaces,",
  "one final newline.",
  "",
  "## Signatures",
  "",
  "Every commit is signed with the service's Ed25519 key as an SSH signature (`gpg.format=ssh`,",
  "namespace `git`, principal `akkoord@history`). The service publishes `keys/allowed_signers` at",
  "`/.well-known/akkoord/allowed_signers`. When the key is rotated, the old key's line gets",
  "`valid-before` and the new key's line `valid-after`; git checks each commit's committer time",
  "against them, so older commits stay valid under the key of their time.",
  "",
  "## Verifying",
  "",
  "With stock git, against the allowed_signers you obtained from the service and compared with",
  "`git show HEAD:keys/allowed_signers` and with a copy you kept:",
  "",
  FENCE + "sh",
  "git fsck --strict",
  "for c in $(git rev-list HEAD); do",
  '  git -c gpg.format=ssh -c gpg.ssh.allowedSignersFile=../allowed_signers verify-commit "$c" \\',
  '    || echo "BAD $c"',
  "done",
  "git rev-parse <commit>:agreements/<board>/<supplier>/version        # equals Version-Oid",
  "mkdir -p /tmp/v && git archive <commit> agreements/<board>/<supplier>/version | tar -x -C /tmp/v",
  "cd /tmp/v/agreements/<board>/<supplier>/version",
  "find . -type f | sed 's|^\\./||' | LC_ALL=C sort | xargs sha256sum | sha256sum   # Content-SHA256",
  "git merge-base --is-ancestor <head you kept> HEAD   # today's history extends yours",
  FENCE,
  "",
  "With the verifier of the Akkoord project, run in a checkout of it, which also replays every event",
  "and checks the lifecycle, each version's oid and content hash, and who acted:",
  "",
  FENCE + "sh",
  "deno task verify <this repository or its URL> --allowed-signers <file or URL> [--since <head you kept>]",
  FENCE,
  "",
].join("\n");

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Writes {@link HISTORY_README} to README.md as a `readme-updated` event by
 * the service, when the README at head (`current.readme`) is missing or
 * differs. Nothing changes otherwise.
 */
export function describeRepository(
  current: { readme: Uint8Array | string | null },
  at: Date,
): Decision<{ updated: boolean }> {
  const readme = typeof current.readme === "string" || current.readme === null
    ? current.readme
    : decoder.decode(current.readme);
  if (readme === HISTORY_README) return { commit: null, result: { updated: false } };
  return {
    commit: eventCommit({
      kind: "readme-updated",
      subject: readme === null
        ? "Describe this repository in README.md"
        : "Update the description in README.md",
      trailers: [],
      actor: SYSTEM_ACTOR,
      at,
      files: new Map([[HISTORY_README_PATH, encoder.encode(HISTORY_README)]]),
    }),
    result: { updated: true },
  };
}
