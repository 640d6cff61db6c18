/**
 * Author and committer lines that `git fsck --strict` accepts for any input.
 */
import type { Identity } from "./history.ts";

/** Stands in for a name or e-mail that is empty after sanitising. */
export const UNKNOWN_IDENTITY: Identity = {
  name: "unknown",
  email: "unknown@akkoord.invalid",
};

/**
 * Makes an identity safe for a Git ident line: drops `<` and `>`, turns
 * control characters (newline, CR, NUL, tab, ...) into spaces, collapses runs
 * of spaces and trims. An empty result takes the value of
 * {@link UNKNOWN_IDENTITY}. E-mails lose all whitespace.
 */
export function sanitiseIdentity(identity: Identity): Identity {
  const name = collapse(identity.name);
  const email = collapse(identity.email).replaceAll(" ", "");
  return {
    name: name === "" ? UNKNOWN_IDENTITY.name : name,
    email: email === "" ? UNKNOWN_IDENTITY.email : email,
  };
}

/**
 * Whole seconds since the epoch of a date, as Git records it.
 * Throws for invalid dates and dates before 1970, which fsck rejects.
 */
export function gitSeconds(at: Date): number {
  const millis = at.getTime();
  if (!Number.isFinite(millis) || millis < 0) {
    throw new Error(`Cannot record time "${String(at)}": not a date after 1970`);
  }
  return Math.floor(millis / 1000);
}

/** The ident line `Name <email> <seconds> +0000` of a sanitised identity at a time. */
export function identLine(identity: Identity, at: Date): string {
  const safe = sanitiseIdentity(identity);
  return `${safe.name} <${safe.email}> ${gitSeconds(at)} +0000`;
}

/** Parses an ident line back into an identity and its time. */
export function parseIdentLine(line: string): Identity & { at: Date } {
  const match = /^(.*) <(.*)> (\d+) [+-]\d{4}$/.exec(line);
  if (match === null) throw new Error(`Cannot parse ident line "${line}"`);
  return {
    name: match[1] ?? "",
    email: match[2] ?? "",
    at: new Date(Number(match[3]) * 1000),
  };
}

function collapse(value: string): string {
  return value
    .replace(/[<>]/g, "")
    // deno-lint-ignore no-control-regex -- control characters are what is removed
    .replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}
