import { createRequire } from "node:module";
import type { PdfFontFiles } from "../views/agreement_pdf.ts";

const FILES: Record<keyof PdfFontFiles, string> = {
  regular: "dejavu-fonts-ttf/ttf/DejaVuSans.ttf",
  bold: "dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf",
  mono: "dejavu-fonts-ttf/ttf/DejaVuSansMono.ttf",
};

let loaded: Promise<PdfFontFiles> | null = null;

/**
 * The DejaVu Sans TrueType files of the npm package `dejavu-fonts-ttf`
 * (Bitstream Vera licence with public-domain changes), which cover Latin,
 * Greek, Cyrillic and Vietnamese. Read from node_modules once per process.
 */
export function loadPdfFonts(): Promise<PdfFontFiles> {
  loaded ??= readFonts().catch((error) => {
    loaded = null;
    throw error;
  });
  return loaded;
}

async function readFonts(): Promise<PdfFontFiles> {
  const require = createRequire(import.meta.url);
  const read = async (specifier: string) => {
    try {
      return await Deno.readFile(require.resolve(specifier));
    } catch (error) {
      throw new Error(
        `Cannot read the PDF font "${specifier}": ${(error as Error).message}; ` +
          "run `deno install` to fetch the npm package dejavu-fonts-ttf",
      );
    }
  };
  const [regular, bold, mono] = await Promise.all(Object.values(FILES).map(read));
  return { regular: regular!, bold: bold!, mono: mono! };
}
