// Unicode UAX #9: embeddings and overrides (U+202A–U+202E) and isolates
// (U+2066–U+2069) change the direction of the text around them, so a label
// with U+202E reverses the Dutch sentence it is quoted in. U+200B, U+2060 and
// U+FEFF are invisible and carry no meaning in a line of text. U+200C and
// U+200D stay: some scripts need them to join or separate letters.
const HIDDEN_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200B\u2060\uFEFF]/gu;

// Default_Ignorable_Code_Point covers every character a renderer draws as
// nothing (format controls, joiners, fillers, variation selectors).
const VISIBLE = /[^\s\p{Cc}\p{Default_Ignorable_Code_Point}]/u;

/**
 * The text without direction controls and invisible characters that carry no
 * meaning. Apply it where a line of text a person typed enters the service.
 */
export function plainText(value: string): string {
  return value.replace(HIDDEN_CONTROLS, "");
}

/** Whether the text shows anything: a character other than white space, controls and invisibles. */
export function hasVisibleContent(value: string): boolean {
  return VISIBLE.test(value);
}
