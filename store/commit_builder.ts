/**
 * Builds the objects of one signed commit on top of the head tree: the blobs
 * of the changed files, the trees on their paths and the SSH-signed commit.
 * Every backend writes exactly these objects, so the same events give the same
 * oids on disk and on Deno KV.
 */
import type { CommitRequest, Identity } from "./history.ts";
import {
  commitPayload,
  type EncodedObject,
  encodeObject,
  signedCommitText,
  utf8,
} from "./git_objects.ts";
import { formatMessage } from "./commit_message.ts";
import { identLine } from "./identity.ts";
import { allowedSignersLine, type SigningKey, signSshsig, sshPublicKey } from "./sshsig.ts";
import type { FileChange, HeadTree, StagedTree } from "./head_tree.ts";

/** Path of the public keys in every tree. */
export const ALLOWED_SIGNERS_PATH = "keys/allowed_signers";

/** Where a new commit goes: the head it extends and who signs it. */
export interface CommitBase {
  tree: HeadTree;
  /** The parent commit, or null for the first commit. */
  head: string | null;
  /** keys/allowed_signers at head, or null when the head tree has none. */
  signers: string | null;
  key: SigningKey;
  committer: Identity;
}

/** A commit's objects, computed but not yet written. */
export interface PreparedCommit {
  oid: string;
  /** Blobs, trees and the commit, in that order. */
  objects: EncodedObject[];
  staged: StagedTree;
  /** The requested files plus keys/allowed_signers when the commit writes it. */
  contents: Map<string, Uint8Array | null>;
  /** keys/allowed_signers after the commit. */
  signers: string;
}

const decoder = new TextDecoder();

/**
 * Prepares a commit of `request` on `base`. keys/allowed_signers always lists
 * the signing key; a commit whose allowed_signers would have retired that key
 * (its lines all carry `valid-before`) is refused, as its signature would not
 * verify.
 */
export function prepareCommit(base: CommitBase, request: CommitRequest): PreparedCommit {
  const contents = new Map(request.files);
  const requested = contents.get(ALLOWED_SIGNERS_PATH);
  const current = requested === undefined ? base.signers : decodeOrNull(requested);
  assertKeyNotRetired(current, base.key.publicKey);
  const signers = withSignerLine(current, allowedSignersLine(base.key.publicKey));
  if (signers !== current) contents.set(ALLOWED_SIGNERS_PATH, utf8(signers));
  const blobs: EncodedObject[] = [];
  const changes = new Map<string, FileChange>();
  for (const [path, content] of contents) {
    const blob = content === null ? null : encodeObject("blob", content);
    if (blob !== null) blobs.push(blob);
    changes.set(path, blob?.oid ?? null);
  }
  const staged = base.tree.stage(changes);
  const commit = signedCommit(base, request, staged.root);
  return {
    oid: commit.oid,
    objects: [...blobs, ...staged.trees, commit],
    staged,
    contents,
    signers,
  };
}

/**
 * Throws when `signers` lists `publicKey` only with `valid-before`: a key
 * rotation retired it and a commit it signs would not verify.
 */
export function assertKeyNotRetired(signers: string | null, publicKey: Uint8Array): void {
  const key = sshPublicKey(publicKey);
  const lines = (signers ?? "").split("\n").filter((line) =>
    ` ${line.trim()} `.includes(` ${key} `)
  );
  if (lines.length > 0 && lines.every((line) => /valid-before=/i.test(line))) {
    throw new Error(
      `Cannot sign with key "${key}": keys/allowed_signers retired it (valid-before), ` +
        "so its signatures would not verify; use the active key",
    );
  }
}

/** allowed_signers text with `line` appended unless its key is already listed. */
export function withSignerLine(text: string | null, line: string): string {
  if (text === null || text === "") return line;
  const key = line.trimEnd().split(" ").slice(-2).join(" ");
  if (text.split("\n").some((listed) => listed.trimEnd().endsWith(` ${key}`))) return text;
  return text.endsWith("\n") ? text + line : `${text}\n${line}`;
}

function signedCommit(base: CommitBase, request: CommitRequest, tree: string): EncodedObject {
  const fields = {
    tree,
    parents: base.head === null ? [] : [base.head],
    author: identLine(request.author, request.at),
    committer: identLine(base.committer, request.at),
    message: formatMessage(request.subject, request.trailers),
  };
  const signature = signSshsig(base.key, utf8(commitPayload(fields)));
  return encodeObject("commit", utf8(signedCommitText(fields, signature)));
}

function decodeOrNull(content: Uint8Array | null): string | null {
  return content === null ? null : decoder.decode(content);
}
