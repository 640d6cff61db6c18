import assert from "node:assert/strict";
import { run } from "./helpers/git.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const ALLOWED_BUILTINS = new Set(["node:buffer", "node:crypto", "node:zlib"]);
const FILE_OR_PROCESS = new RegExp(
  "\\bDeno\\.(writeFile|writeTextFile|open|create|mkdir|remove|rename|truncate|chmod|chown|" +
    "copyFile|link|symlink|makeTempDir|makeTempFile|utime|Command|run|kill)(Sync)?\\b" +
    "|\\bimport\\s*\\(",
);

interface GraphModule {
  specifier: string;
  kind?: string;
}

/**
 * Walks the module graph of `entry` with `deno info --json` and lists what in
 * it may write files or start processes: a file-system or process call in a
 * local module, a Node built-in other than buffer, crypto and zlib, or any
 * npm or remote module (whose code is not checked here).
 */
async function sideEffects(entry: string): Promise<string[]> {
  const info = JSON.parse(
    await run(Deno.execPath(), ["info", "--json", entry], { cwd: ROOT, env: { NO_COLOR: "1" } }),
  ) as { modules: GraphModule[] };
  const found: string[] = [];
  for (const module of info.modules) {
    const { specifier } = module;
    if (specifier.startsWith("file://")) {
      const source = await Deno.readTextFile(new URL(specifier));
      source.split("\n").forEach((line, i) => {
        if (FILE_OR_PROCESS.test(line)) found.push(`${specifier}:${i + 1}: ${line.trim()}`);
      });
    } else if (!ALLOWED_BUILTINS.has(specifier)) {
      found.push(`${specifier} (${module.kind ?? "module"})`);
    }
  }
  return found;
}

Deno.test("nothing reachable from store/kv_store.ts writes files or starts processes", async () => {
  assert.deepEqual(await sideEffects("store/kv_store.ts"), []);
});

Deno.test("the guard finds the file writes of the disk store", async () => {
  const found = await sideEffects("store/disk_store.ts");
  assert.ok(found.some((line) => line.includes("Deno.mkdir(")), found.join("\n"));
  assert.ok(found.some((line) => line.startsWith("node:fs")), found.join("\n"));
  assert.ok(found.some((line) => line.startsWith("npm:")), found.join("\n"));
});
