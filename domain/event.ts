import type { CommitRequest } from "../store/history.ts";
import type { ActorRecord } from "./actor.ts";

/** What kind of domain event a commit records (its `Event:` trailer). */
export type EventKind =
  | "board-registered"
  | "supplier-registered"
  | "terms-accepted"
  | "offered"
  | "approved"
  | "rejected"
  | "signed"
  | "withdrawn"
  | "readme-updated"
  | "key-rotated"
  | "api-key-registered"
  | "api-key-revoked"
  | "reminded"
  | "escalated"
  | "supplier-invited";

/** The options of one event's commit. */
export interface EventOptions {
  kind: EventKind;
  subject: string;
  /** Trailers between `Event:` and the actor's trailers. */
  trailers: Array<[string, string]>;
  actor: ActorRecord;
  at: Date;
  files: Map<string, Uint8Array | null>;
}

const encoder = new TextEncoder();

/**
 * The commit of one domain event: a readable subject and trailers
 * `Event:`, the event's own, then `Actor:`, `Role:`, `Organisation:` and
 * `Assurance:`. The author is the acting person, under an address that names
 * their pseudonym and organisation and is never deliverable.
 */
export function eventCommit(options: EventOptions): CommitRequest {
  const { actor } = options;
  return {
    subject: options.subject,
    trailers: [
      ["Event", options.kind],
      ...options.trailers,
      ["Actor", actor.subject],
      ["Role", actor.role],
      ["Organisation", actor.organisation],
      ["Assurance", actor.assurance],
    ],
    author: { name: actor.name, email: `${actor.subject}@kvk-${actor.organisation}.invalid` },
    at: options.at,
    files: options.files,
  };
}

/** Serialises a JSON document as the history stores it. */
export function jsonFile(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value, null, 2) + "\n");
}

/** The time of an event as recorded in JSON files: whole seconds, UTC. */
export function isoSeconds(at: Date): string {
  return new Date(Math.floor(at.getTime() / 1000) * 1000).toISOString().replace(".000Z", "Z");
}
