/**
 * Commit messages: a one-line subject and a paragraph of `Key: value`
 * trailers, in the form `git interpret-trailers --parse` reads.
 */

/** A message taken apart. */
export interface ParsedMessage {
  subject: string;
  trailers: Array<[string, string]>;
}

const TRAILER_KEY = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
const TRAILER_LINE = /^([A-Za-z0-9][A-Za-z0-9-]*): ?(.*)$/;

/**
 * Builds `subject\n\nKey: value\n...` with exactly one trailing newline.
 * Subject and values are flattened to one line; an empty subject or a key that
 * is not a trailer token is refused.
 */
export function formatMessage(subject: string, trailers: Array<[string, string]>): string {
  const line = oneLine(subject);
  if (line === "") throw new Error("Cannot write commit message: the subject is empty");
  const lines = trailers.map(([key, value]) => {
    if (!TRAILER_KEY.test(key)) {
      throw new Error(`Cannot write trailer "${key}": a key is letters, digits and "-"`);
    }
    return `${key}: ${oneLine(value)}`;
  });
  return lines.length === 0 ? `${line}\n` : `${line}\n\n${lines.join("\n")}\n`;
}

/**
 * Reads the subject (first paragraph, on one line) and the trailers (the last
 * paragraph, when it is not the first and every line is `Key: value`).
 */
export function parseMessage(message: string): ParsedMessage {
  const paragraphs = message.replace(/\n+$/, "").split(/\n\s*\n/);
  const subject = (paragraphs[0] ?? "").split("\n").join(" ").trim();
  const last = paragraphs.length > 1 ? paragraphs.at(-1) ?? "" : "";
  const matches = last.split("\n").map((line) => TRAILER_LINE.exec(line));
  if (last === "" || matches.some((match) => match === null)) return { subject, trailers: [] };
  const trailers = matches.map((match): [string, string] => [match?.[1] ?? "", match?.[2] ?? ""]);
  return { subject, trailers };
}

function oneLine(value: string): string {
  // deno-lint-ignore no-control-regex -- control characters are what is removed
  return value.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, " ").replace(/ +/g, " ").trim();
}
