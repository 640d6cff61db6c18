/**
 * JSON values of the history's files: reading them, comparing them as the
 * service writes them, and the version references they hold.
 */

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Names one version's exact content. */
export interface VersionRef {
  version: number;
  oid: string;
  contentSha256: string;
}

export function asRef(value: unknown): VersionRef | null {
  const record = asRecord(value);
  if (record === null) return null;
  const { version, oid, contentSha256 } = record;
  if (typeof version !== "number" || typeof oid !== "string") return null;
  if (typeof contentSha256 !== "string") return null;
  return { version, oid, contentSha256 };
}

export function sameRef(a: VersionRef | null, b: VersionRef | null): boolean {
  if (a === null || b === null) return a === b;
  return a.version === b.version && a.oid === b.oid && a.contentSha256 === b.contentSha256;
}

/** Deep equality of JSON values, key order included, as the service writes them. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  }
  if (Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  const recordB = b as Record<string, unknown>;
  return keysA.every((key, i) =>
    key === keysB[i] && sameJson((a as Record<string, unknown>)[key], recordB[key])
  );
}

export function asRecord(value: unknown): Record<string, unknown> | null {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Record<string, unknown>
    : null;
}

export function readText(
  content: Uint8Array | null,
  path: string,
  fail: (what: string) => Error,
): string {
  if (content === null) throw fail(`it deletes ${path}`);
  try {
    return decoder.decode(content);
  } catch {
    throw fail(`${path} is not UTF-8`);
  }
}

export function readJson(
  content: Uint8Array | null,
  path: string,
  fail: (what: string) => Error,
): Record<string, unknown> {
  const text = readText(content, path, fail);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw fail(`${path} is not JSON`);
  }
  const record = asRecord(value);
  if (record === null) throw fail(`${path} does not hold a JSON object`);
  return record;
}

/** A value as the service writes it into a trailer: control characters and runs of space as one space. */
export function flatten(value: string): string {
  // deno-lint-ignore no-control-regex -- control characters are what is flattened
  return value.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, " ").replace(/\s+/g, " ").trim();
}
