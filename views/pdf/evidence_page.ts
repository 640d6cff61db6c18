import type { VersionEvent } from "../../domain/version_evidence.ts";
import type { VersionRef } from "../../domain/state.ts";
import { ACTION_LABELS, ROLE_LABELS } from "../labels.ts";
import type { PageWriter } from "./page_writer.ts";
import { formatAmsterdamTime } from "./pdf_date.ts";

/** What the evidence page shows: the version, its events, and where it lives in the tree. */
export interface EvidenceData {
  version: VersionRef;
  events: VersionEvent[];
  /** The version's directory in the history repository, `agreements/<board>/<supplier>/version`. */
  versionPath: string;
}

/**
 * The evidence page: every event of the version with who acted, for which
 * organisation, with which mandate and assurance level, when (in
 * Europe/Amsterdam with its UTC offset), the commit that recorded it, and the
 * stock git commands that check it all against the history repository.
 */
export function writeEvidence(writer: PageWriter, data: EvidenceData): void {
  writer.newPage();
  writer.heading(`Bewijs bij versie ${data.version.version}`, 1);
  writer.paragraph([{
    text: "Elke stap hieronder is één ondertekende Git-commit in de geschiedenis van Akkoord. " +
      "Tijden staan in Nederlandse tijd (Europe/Amsterdam), met de afwijking van UTC.",
  }]);
  writer.table({
    widths: [1, 2.6],
    rows: [
      ["Versie", String(data.version.version)],
      ["Oid van de versie (Git-tree)", [{ text: data.version.oid, style: "mono" }]],
      ["Inhoud SHA-256", [{ text: data.version.contentSha256, style: "mono" }]],
    ],
  });
  for (const event of data.events) writeEvent(writer, event);
  writeCommands(writer, data);
}

function writeEvent(writer: PageWriter, event: VersionEvent): void {
  const { entry } = event;
  const { actor } = entry;
  writer.heading(`${ACTION_LABELS[entry.action]}`, 3);
  writer.table({
    widths: [1, 2.6],
    rows: [
      ["Door", actor.name],
      ["Pseudoniem (eHerkenning)", [{ text: actor.subject, style: "mono" }]],
      ["Organisatie", `KvK ${actor.organisation}`],
      ["Mandaat of rol", `${ROLE_LABELS[actor.role]} (${actor.role})`],
      ["Betrouwbaarheidsniveau", actor.assurance],
      ["Tijdstip", `${formatAmsterdamTime(entry.at)}\n${entry.at}`],
      [
        "Commit",
        event.commit ? [{ text: event.commit, style: "mono" }] : "Niet gevonden in de geschiedenis",
      ],
      ...(entry.reason ? [["Reden", entry.reason]] : []),
    ],
  });
}

function writeCommands(writer: PageWriter, data: EvidenceData): void {
  const commits = data.events.flatMap((event) => (event.commit ? [event.commit] : []));
  writer.heading("Zo controleert u dit met git", 2);
  writer.paragraph([{
    text: "Haal de geschiedenis op (git clone van /history.git, met een toegangssleutel) en de " +
      "gepubliceerde sleutel (/.well-known/akkoord/allowed_signers). Controleer dan in de " +
      "map van de geschiedenis de handtekening en de trailers van elke commit:",
  }]);
  const first = commits[0] ?? "<commit>";
  const lines = [
    ...commits.map((commit) =>
      "git -c gpg.format=ssh -c gpg.ssh.allowedSignersFile=../allowed_signers " +
      `verify-commit ${commit}`
    ),
    ...commits.map((commit) => `git show -s --format='%H %an%n%(trailers)' ${commit}`),
  ];
  command(writer, lines.length > 0 ? lines : ["git log --format='%H %s'"]);
  writer.paragraph([{ text: `De oid van de versie moet ${data.version.oid} zijn:` }]);
  command(writer, [`git rev-parse ${first}:${data.versionPath}`]);
  writer.paragraph([{
    text: `De SHA-256 van de inhoud moet ${data.version.contentSha256} zijn:`,
  }]);
  command(writer, [
    `mkdir /tmp/v && git archive ${first} ${data.versionPath} | tar -x -C /tmp/v`,
    `cd /tmp/v/${data.versionPath}`,
    "find . -type f | sed 's|^\\./||' | LC_ALL=C sort | xargs sha256sum | sha256sum",
  ]);
}

function command(writer: PageWriter, lines: string[]): void {
  writer.paragraph([{ text: lines.join("\n"), style: "mono" }], { size: 8, indent: 8 });
}
