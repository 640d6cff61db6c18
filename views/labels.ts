import type { ActorRecord } from "../domain/actor.ts";
import type { Privacybijsluiter } from "../domain/privacybijsluiter.ts";
import type { AgreementState, HistoryAction } from "../domain/state.ts";

/** Who an agreement waits for, as the board overview shows it. */
export type WaitingFor = "beoordelaar" | "ondertekenaar" | "leverancier" | null;

/** The Dutch name of an agreement state, in lower case. */
export const STATE_LABELS: Record<AgreementState, string> = {
  offered: "aangeboden",
  approved: "goedgekeurd",
  rejected: "afgewezen",
  signed: "ondertekend",
  withdrawn: "ingetrokken",
};

/** The Utrecht status-badge variant that colours each state. */
export const STATE_BADGES: Record<AgreementState, string> = {
  offered: "neutral",
  approved: "warning",
  rejected: "danger",
  signed: "success",
  withdrawn: "inactive",
};

/** The Dutch name of a history action, as a table cell. */
export const ACTION_LABELS: Record<HistoryAction, string> = {
  offered: "Aangeboden",
  approved: "Goedgekeurd",
  rejected: "Afgewezen",
  signed: "Ondertekend",
  withdrawn: "Ingetrokken",
};

/** The Dutch name of the role an actor relied on. */
export const ROLE_LABELS: Record<ActorRecord["role"], string> = {
  beoordelen: "beoordelaar",
  ondertekenen: "ondertekenaar",
  leverancier: "leverancier",
  beheer: "beheerder",
  systeem: "systeem",
};

/** What an agreement waits for, in Dutch; "—" when it waits for nobody. */
export function waitingLabel(waitingFor: WaitingFor): string {
  switch (waitingFor) {
    case "beoordelaar":
      return "Wacht op beoordeling";
    case "ondertekenaar":
      return "Wacht op ondertekening";
    case "leverancier":
      return "Wacht op leverancier";
    case null:
      return "—";
  }
}

/** The Dutch name of a category of data subjects. */
export const DATA_SUBJECT_LABELS: Record<Privacybijsluiter["dataSubjects"][number], string> = {
  leerlingen: "Leerlingen",
  ouders: "Ouders en verzorgers",
  medewerkers: "Medewerkers",
  studenten: "Studenten",
  sollicitanten: "Sollicitanten",
  overig: "Overige betrokkenen",
};

/** "Ja" or "Nee". */
export function yesNo(value: boolean): string {
  return value ? "Ja" : "Nee";
}

/** A role or mandate name as the page header shows it; unknown names pass unchanged. */
export function roleLabel(role: string): string {
  return role in ROLE_LABELS ? ROLE_LABELS[role as ActorRecord["role"]] : role;
}
