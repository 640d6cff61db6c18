import type { KvkNumber } from "./ids.ts";

/** A mandate as the login broker states it. */
export type Mandate = "beoordelen" | "ondertekenen";

/** What a verified login says about the person acting. */
export interface Principal {
  /** The eHerkenning acting-subject pseudonym. */
  subject: string;
  /** The display name the broker gave. */
  name: string;
  /** The KvK number of the organisation the person acts for. */
  organisation: KvkNumber;
  /** The eHerkenning assurance level URN. */
  assurance: string;
  /** Mandates for a school board. */
  mandates: Mandate[];
  /** The person acts for a supplier (API or supplier UI). */
  supplier: boolean;
  /** The person administers the service. */
  admin: boolean;
  /** The person audits the service and may clone its full history. */
  auditor: boolean;
}

/** The evidence of who acted, as recorded in the history. Never a token. */
export interface ActorRecord {
  subject: string;
  name: string;
  organisation: KvkNumber;
  assurance: string;
  /** The mandate or role the act relied on. */
  role: "beoordelen" | "ondertekenen" | "leverancier" | "beheer" | "systeem";
}

/** The actor of events the service makes itself (registry loads). */
export const SYSTEM_ACTOR: ActorRecord = {
  subject: "akkoord",
  name: "Akkoord",
  organisation: "00000000",
  assurance: "none",
  role: "systeem",
};

/** The record of a principal acting in one role. */
export function actorRecord(principal: Principal, role: ActorRecord["role"]): ActorRecord {
  return {
    subject: principal.subject,
    name: principal.name,
    organisation: principal.organisation,
    assurance: principal.assurance,
    role,
  };
}
