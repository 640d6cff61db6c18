/**
 * Comparing two versions of an agreement: two 200 KB texts built from the
 * seed sample (its articles repeated with variations: changed words, a moved
 * article, renumbering, reflowed paragraphs), and pathological pairs that
 * must come back coarse but quickly. Loading this file fails when the median
 * of the typical case exceeds 50 ms or a pathological case takes 1 s.
 *
 * Run: npx -y deno@2.9.6 bench -A bench/compare_bench.ts
 */
import { compareTexts } from "../domain/compare_text.ts";

const TYPICAL_MEDIAN_MS = 50;
const PATHOLOGICAL_MS = 1_000;

const sample = await Deno.readTextFile(
  new URL("../seed/sample/verwerkersovereenkomst.md", import.meta.url),
);
const older = repeatTo(sample, 200_000, false);
const newer = repeatTo(sample, 200_000, true);
const differentA = noise(500_000, 1);
const differentB = noise(500_000, 2);
const small = sample.slice(0, 2_000);
const grown = small + "\n\n" + noise(300_000, 3);
const spacedHeading = `## Artikel 1 x${" \t".repeat(100_000)}y\n\n${"\n".repeat(200_000)}tekst\n`;
const paragraphsA = paragraphs(6_000, 10);
const paragraphsB = paragraphs(6_000, 20_000);

guard();

Deno.bench({
  name: "two 200 KB agreements with scattered changes",
  group: "compare",
  baseline: true,
  n: 50,
  warmup: 5,
  fn() {
    compareTexts(older, newer);
  },
});

Deno.bench({
  name: "500 KB against a wholly different 500 KB (coarse)",
  group: "compare",
  n: 5,
  warmup: 1,
  fn() {
    compareTexts(differentA, differentB);
  },
});

Deno.bench({
  name: "300 KB added to a 2 KB text (coarse)",
  group: "compare",
  n: 5,
  warmup: 1,
  fn() {
    compareTexts(small, grown);
  },
});

Deno.bench({
  name: "6,000 paragraphs against 6,000 other paragraphs (coarse)",
  group: "compare",
  n: 5,
  warmup: 1,
  fn() {
    compareTexts(paragraphsA, paragraphsB);
  },
});

Deno.bench({
  name: "a heading with 200,000 blanks and 200,000 blank lines",
  group: "compare",
  n: 5,
  warmup: 1,
  fn() {
    compareTexts(small, spacedHeading);
  },
});

/** Throws when the typical case's median or a pathological case is over its bound. */
function guard(): void {
  const times: number[] = [];
  for (let i = 0; i < 15; i++) times.push(timed(() => compareTexts(older, newer)));
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  if (median > TYPICAL_MEDIAN_MS) {
    throw new Error(`Comparing two 200 KB agreements took a median ${median} ms, over 50 ms`);
  }
  const cases = [
    ["different", differentA, differentB],
    ["grown", small, grown],
    ["paragraphs", paragraphsA, paragraphsB],
    ["spaced heading", small, spacedHeading],
  ];
  for (const [name, a, b] of cases) {
    const ms = timed(() => compareTexts(a!, b!));
    if (ms > PATHOLOGICAL_MS) throw new Error(`The ${name} pathological case took ${ms} ms`);
  }
}

function timed(fn: () => unknown): number {
  const start = performance.now();
  fn();
  return Math.round(performance.now() - start);
}

/** The sample's articles repeated up to `size` characters, each copy's titles made unique. */
function repeatTo(text: string, size: number, vary: boolean): string {
  const parts: string[] = [];
  let length = 0;
  for (let copy = 1; length < size; copy++) {
    let part = text.replace(/^(##+ .+)$/gm, `$1 deel ${copy}`);
    if (vary) part = variation(part, copy);
    parts.push(part);
    length += part.length;
  }
  return parts.join("\n");
}

function variation(part: string, copy: number): string {
  let paragraph = 0;
  let varied = part.split("\n\n").map((block) => {
    paragraph++;
    if (block.startsWith("#") || block.startsWith("|")) return block;
    if (paragraph % 9 === copy % 9) return block.replace(/\b(\w{6,})\b/, "$1 gewijzigd");
    if (paragraph % 13 === 0) return block.replace(/\n/g, " ");
    return block;
  }).join("\n\n");
  if (copy === 2) {
    const five = varied.indexOf("## Artikel 5 ");
    const six = varied.indexOf("## Artikel 6 ");
    const seven = varied.indexOf("## Artikel 7 ");
    varied = varied.slice(0, five) + varied.slice(six, seven) + varied.slice(five, six) +
      varied.slice(seven);
  }
  if (copy === 3) {
    varied = varied.replace(
      /^## Artikel (\d+) /gm,
      (_, n: string) => `## Artikel ${Number(n) + 1} `,
    );
  }
  return varied;
}

function noise(chars: number, seed: number): string {
  let state = seed;
  const words: string[] = [];
  let length = 0;
  while (length < chars) {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    const word = state.toString(36).slice(0, 3 + (state % 7));
    words.push(word);
    length += word.length + 1;
  }
  return words.join(" ");
}

function paragraphs(count: number, seed: number): string {
  return Array.from({ length: count }, (_, i) => `Alinea ${i} ${noise(40, seed + i)}`).join("\n\n");
}
