import { Hono } from "hono";

/** One stylesheet the service serves, by its public name. */
interface Stylesheet {
  name: string;
  sources: URL[];
}

const STYLESHEETS: Stylesheet[] = [
  {
    name: "utrecht.css",
    sources: [
      packageFile("@utrecht/component-library-css/dist/index.css"),
      packageFile("@utrecht/component-library-css/dist/html.css"),
    ],
  },
  {
    name: "tokens.css",
    sources: [packageFile("@nl-design-system-unstable/voorbeeld-design-tokens/dist/theme.css")],
  },
  { name: "app.css", sources: [new URL("../assets/app.css", import.meta.url)] },
];

const CACHE_CONTROL = "public, max-age=3600";

function packageFile(specifier: string): URL {
  return new URL(import.meta.resolve(specifier));
}

function readStylesheet(sheet: Stylesheet): string {
  return sheet.sources.map((source) => {
    try {
      return Deno.readTextFileSync(source);
    } catch (error) {
      throw new Error(
        `Cannot read stylesheet "${sheet.name}" from "${source.pathname}": ` +
          `the npm packages may not be installed (run "deno install")`,
        { cause: error },
      );
    }
  }).join("\n");
}

/**
 * The routes serving the page stylesheets under /assets/: the Utrecht
 * component CSS, the NL Design System "voorbeeld" design tokens and
 * Akkoord's own CSS. The files are read once, when this is called.
 */
export function assetRoutes(): Hono {
  const app = new Hono();
  for (const sheet of STYLESHEETS) {
    const body = readStylesheet(sheet);
    app.get(`/assets/${sheet.name}`, (c) => {
      c.header("Content-Type", "text/css; charset=utf-8");
      c.header("Cache-Control", CACHE_CONTROL);
      c.header("X-Content-Type-Options", "nosniff");
      return c.body(body);
    });
  }
  return app;
}
