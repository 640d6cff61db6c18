import type { z } from "zod";

// Unicode UAX #9: embeddings and overrides (U+202A–U+202E), isolates
// (U+2066–U+2069) and the marks U+200E, U+200F and U+061C change the
// direction of the text around them, so a label with U+202E reverses the
// Dutch sentence it is quoted in.
const DIRECTION_CONTROLS = "\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069";

// Characters a renderer draws as nothing although they are no white space:
// zero-width space, word joiner and the invisible operators (U+2060–U+2064),
// the deprecated format controls (U+206A–U+206F), the byte order mark, the
// soft hyphen, the combining grapheme joiner, the Hangul and Khmer fillers,
// the Mongolian vowel separator and the tag characters (U+E0000–U+E007F),
// which can spell a whole hidden sentence.
const INVISIBLE =
  "\u00AD\u034F\u115F\u1160\u17B4\u17B5\u180E\u200B\u2060-\u2064\u206A-\u206F\u3164\uFEFF\uFFA0\u{E0000}-\u{E007F}";

// U+200C and U+200D stay in the scripts that need them to join or separate
// letters (Arabic, Persian, the Indic scripts) and in emoji sequences; next
// to a Latin letter, a digit, punctuation or white space they only hide.
const JOINERS = /[\u200C\u200D]/u;
const JOINED = /[\p{L}\p{M}\p{Extended_Pictographic}\p{Emoji_Modifier}\uFE0F]/u;
const LATIN = /\p{Script=Latin}/u;

const HIDDEN = new RegExp(`[${DIRECTION_CONTROLS}${INVISIBLE}]|[\\u200C\\u200D]`, "gu");
const ALWAYS_HIDDEN = new RegExp(`[${DIRECTION_CONTROLS}${INVISIBLE}]`, "gu");
const DIRECTION = new RegExp(`[${DIRECTION_CONTROLS}]`, "u");
const SOMETHING_HIDDEN = new RegExp(`[${DIRECTION_CONTROLS}${INVISIBLE}\\u200C\\u200D]`, "u");

// Default_Ignorable_Code_Point covers every character a renderer draws as
// nothing (format controls, joiners, fillers, variation selectors).
const VISIBLE = /[^\s\p{Cc}\p{Default_Ignorable_Code_Point}]/u;

const NAMES: Record<string, string> = {
  "U+00AD": "SOFT HYPHEN",
  "U+061C": "ARABIC LETTER MARK",
  "U+200B": "ZERO WIDTH SPACE",
  "U+200C": "ZERO WIDTH NON-JOINER",
  "U+200D": "ZERO WIDTH JOINER",
  "U+200E": "LEFT-TO-RIGHT MARK",
  "U+200F": "RIGHT-TO-LEFT MARK",
  "U+202A": "LEFT-TO-RIGHT EMBEDDING",
  "U+202B": "RIGHT-TO-LEFT EMBEDDING",
  "U+202C": "POP DIRECTIONAL FORMATTING",
  "U+202D": "LEFT-TO-RIGHT OVERRIDE",
  "U+202E": "RIGHT-TO-LEFT OVERRIDE",
  "U+2060": "WORD JOINER",
  "U+2066": "LEFT-TO-RIGHT ISOLATE",
  "U+2067": "RIGHT-TO-LEFT ISOLATE",
  "U+2068": "FIRST STRONG ISOLATE",
  "U+2069": "POP DIRECTIONAL ISOLATE",
  "U+FEFF": "ZERO WIDTH NO-BREAK SPACE",
};

/** A character that changes the direction of the text or is invisible, and where it is. */
export interface HiddenCharacter {
  /** The code point as Unicode writes it, such as `U+202E`. */
  codePoint: string;
  /** The character's Unicode name, when it is one of the common ones. */
  name?: string;
  /** Which line (from 1) holds it. */
  line: number;
  /** Which character of that line (from 1) it is. */
  column: number;
  /** Whether it changes the direction of the text (else it is invisible). */
  direction: boolean;
}

/**
 * The text without direction controls and invisible characters that carry no
 * meaning. Apply it where a line of text a person typed enters the service.
 * Zero-width joiners and non-joiners stay.
 */
export function plainText(value: string): string {
  return value.replace(ALWAYS_HIDDEN, "");
}

/** Whether the text shows anything: a character other than white space, controls and invisibles. */
export function hasVisibleContent(value: string): boolean {
  return VISIBLE.test(value);
}

/**
 * The first character of `text` that would make a reader see something other
 * than what is stored: a direction control, an invisible character, or a
 * zero-width (non-)joiner outside the scripts that need one; null when there
 * is none. Agreement texts and privacybijsluiters with one are refused.
 */
export function findHiddenCharacter(text: string): HiddenCharacter | null {
  if (!SOMETHING_HIDDEN.test(text)) return null;
  for (const match of text.matchAll(HIDDEN)) {
    const at = match.index;
    if (JOINERS.test(match[0]) && isJoining(text, at)) continue;
    const before = text.slice(0, at);
    const line = before.split("\n").length;
    const column = [...before.slice(before.lastIndexOf("\n") + 1)].length + 1;
    const codePoint = codePointOf(match[0]);
    return {
      codePoint,
      ...(NAMES[codePoint] ? { name: NAMES[codePoint] } : {}),
      line,
      column,
      direction: DIRECTION.test(match[0]),
    };
  }
  return null;
}

/**
 * The text with every hidden character (see {@link findHiddenCharacter})
 * written out as `[U+202E]`, so that it shows instead of acting; for showing
 * stored text that was accepted before such characters were refused.
 */
export function revealHiddenCharacters(text: string): string {
  if (!SOMETHING_HIDDEN.test(text)) return text;
  return text.replace(
    HIDDEN,
    (character, at: number) =>
      JOINERS.test(character) && isJoining(text, at) ? character : `[${codePointOf(character)}]`,
  );
}

/** How a hidden character reads in an English message: `U+202E (RIGHT-TO-LEFT OVERRIDE)`. */
export function describeHiddenCharacter(hidden: HiddenCharacter): string {
  return hidden.name ? `${hidden.codePoint} (${hidden.name})` : hidden.codePoint;
}

/**
 * Why a text cannot be accepted, naming its first hidden character and
 * where it is (the line only when the text has several), or null.
 */
export function hiddenCharacterProblem(text: string): string | null {
  const hidden = findHiddenCharacter(text);
  if (hidden === null) return null;
  const where = text.includes("\n")
    ? `Line ${hidden.line}, character ${hidden.column}`
    : `Character ${hidden.column}`;
  const effect = hidden.direction
    ? "which changes the direction of the text around it"
    : "which is invisible";
  return `${where} is ${describeHiddenCharacter(hidden)}, ${effect}; remove it`;
}

/**
 * A zod refinement that refuses a string holding a hidden character, with
 * {@link hiddenCharacterProblem} as message and the character in the issue's
 * `params` (`hiddenCharacter`, `line`, `column`) for messages in Dutch.
 */
export function refuseHiddenCharacters(value: string, context: z.RefinementCtx): void {
  const hidden = findHiddenCharacter(value);
  if (hidden === null) return;
  context.addIssue({
    code: "custom",
    message: hiddenCharacterProblem(value)!,
    params: { hiddenCharacter: hidden.codePoint, line: hidden.line, column: hidden.column },
  });
}

function isJoining(text: string, at: number): boolean {
  const previous = [...text.slice(Math.max(0, at - 2), at)].at(-1) ?? " ";
  const next = [...text.slice(at + 1, at + 3)][0] ?? " ";
  return [previous, next].every((neighbour) => JOINED.test(neighbour) && !LATIN.test(neighbour));
}

function codePointOf(character: string): string {
  return `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}
