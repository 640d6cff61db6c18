import type { CommitInfo } from "../store/history.ts";
import type { AgreementStatus, HistoryEntry } from "./state.ts";

/** One event of a version with the commit that recorded it (null when none was found). */
export interface VersionEvent {
  entry: HistoryEntry;
  commit: string | null;
}

/**
 * The events of one version of an agreement, oldest first, each with the oid
 * of the commit that recorded it. A commit records an event when its trailers
 * name the event (`Event`), the agreement and version (`Agreement:
 * <board>/<supplier> version <n>`) and the version's tree (`Version-Oid`);
 * commits of the same kind are paired with the entries in order of time.
 * `commits` are those touching the agreement's status.json, in any order.
 */
export function versionEvents(
  status: AgreementStatus,
  version: number,
  commits: CommitInfo[],
): VersionEvent[] {
  const agreement = `${status.board}/${status.supplier} version ${version}`;
  const oldestFirst = [...commits].sort((a, b) => a.author.at.getTime() - b.author.at.getTime());
  const used = new Set<string>();
  return status.history
    .filter((entry) => entry.version === version)
    .map((entry) => {
      const commit = oldestFirst.find((candidate) =>
        !used.has(candidate.oid) && records(candidate, entry, agreement)
      );
      if (commit) used.add(commit.oid);
      return { entry, commit: commit?.oid ?? null };
    });
}

function records(commit: CommitInfo, entry: HistoryEntry, agreement: string): boolean {
  const values = (key: string) =>
    commit.trailers.filter(([name]) => name === key).map(([, value]) => value);
  return values("Event").includes(entry.action) &&
    values("Agreement").includes(agreement) &&
    (values("Version-Oid").length === 0 || values("Version-Oid").includes(entry.oid));
}
