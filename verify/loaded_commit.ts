/**
 * One commit of the history as the verifier loads it: the parsed object, the
 * files it changed against its first parent, the contents the checks read,
 * and the version directories its event names.
 */
import type { CommitObject } from "./commit_object.ts";

/** One changed path, as `git log --raw` reports it. */
export interface Change {
  path: string;
  /** `A` added, `M` modified, `D` deleted, `T` type changed. */
  status: string;
  /** The mode after the commit, `000000` when deleted. */
  mode: string;
  /** The blob after the commit, or null when deleted. */
  oid: string | null;
}

/** A file of a version directory. */
export interface VersionFile {
  mode: string;
  content: Uint8Array;
}

/** The `version/` directory of one agreement at one commit. */
export interface VersionTree {
  /** The Git tree oid of the directory. */
  oid: string;
  /** Paths relative to the directory, to their mode and bytes. */
  files: Map<string, VersionFile>;
}

/** A commit with everything the checks read. */
export interface LoadedCommit {
  object: CommitObject;
  changes: Change[];
  /** New contents of the changed files the checks read ({@link isCheckedFile}); null when deleted. */
  files: Map<string, Uint8Array | null>;
  /** Keyed `board/supplier`: each named agreement's version directory, null when absent. */
  versions: Map<string, VersionTree | null>;
}

/** Events whose `Agreement` trailers name versions. */
export const VERSION_EVENTS = new Set(["offered", "approved", "rejected", "signed", "withdrawn"]);

const CHECKED_FILE =
  /^(README\.md|keys\/allowed_signers|boards\/[^/]+\.json|suppliers\/[^/]+\.json|suppliers\/[^/]+\/api_keys\/[^/]+\.json|agreements\/[^/]+\/[^/]+\/(?:status|reminders)\.json|invitations\/[^/]+\/[^/]+\.json)$/;
const AGREEMENT = /^(\d{5})\/(\d{8}) version /;

/** Whether the verifier reads the content of a changed file at this path. */
export function isCheckedFile(path: string): boolean {
  return CHECKED_FILE.test(path);
}

/** The `board/supplier` keys of the agreements a commit's trailers name, when its event has versions. */
export function namedAgreements(trailers: Array<[string, string]>): string[] {
  const event = trailers.find(([key]) => key === "Event")?.[1] ?? "";
  if (!VERSION_EVENTS.has(event)) return [];
  const keys: string[] = [];
  for (const [key, value] of trailers) {
    const match = key === "Agreement" ? AGREEMENT.exec(value) : null;
    if (match !== null) keys.push(`${match[1]}/${match[2]}`);
  }
  return keys;
}

/** The version directory of an agreement key `board/supplier`. */
export function versionDirOf(key: string): string {
  return `agreements/${key}/version`;
}
