import assert from "node:assert/strict";
import { ConfigError, readConfig } from "../config.ts";
import { onlyOn, withTestStore } from "./helpers/test_store.ts";

Deno.test("embedded defaults: development, ./data, port 8000, development login and demo data on", () => {
  const config = readConfig({});
  assert.equal(config.mode, "development");
  assert.equal(config.dataDir, "./data");
  assert.equal(config.port, 8000);
  assert.equal(config.publicUrl, "http://127.0.0.1:8000");
  assert.equal(config.devLogin, true);
  assert.equal(config.demoData, true);
  assert.equal(config.oidc.issuer, "http://127.0.0.1:8000/dev-broker");
  assert.equal(config.oidc.minAssurance, "loa3");
});

Deno.test("a bad value stops start-up with a message naming the variable", () => {
  assert.throws(() => readConfig({ AKKOORD_PORT: "eighty" }), /AKKOORD_PORT/);
  assert.throws(() => readConfig({ AKKOORD_MIN_ASSURANCE: "loa9" }), /AKKOORD_MIN_ASSURANCE/);
  assert.throws(() => readConfig({ AKKOORD_DEV_LOGIN: "yes" }), /AKKOORD_DEV_LOGIN/);
  assert.throws(() => readConfig({ AKKOORD_PUBLIC_URL: "ftp://x" }), /AKKOORD_PUBLIC_URL/);
  assert.throws(
    () => readConfig({ AKKOORD_ADMIN_ORGANISATIONS: "1234567" }),
    /AKKOORD_ADMIN_ORGANISATIONS/,
  );
});

Deno.test("production mode refuses the development login, demo data and missing secrets", () => {
  const production = {
    AKKOORD_MODE: "production",
    AKKOORD_PUBLIC_URL: "https://akkoord.example",
    AKKOORD_OIDC_ISSUER: "https://broker.example",
    AKKOORD_SESSION_SECRET: "s".repeat(32),
    AKKOORD_DEV_LOGIN: "false",
    AKKOORD_DEMO_DATA: "false",
  };
  assert.equal(readConfig(production).devLogin, false);
  assert.throws(() => readConfig({ ...production, AKKOORD_DEV_LOGIN: "true" }), ConfigError);
  assert.throws(
    () => readConfig({ ...production, AKKOORD_DEMO_DATA: "true" }),
    /AKKOORD_DEMO_DATA/,
  );
  assert.throws(
    () => readConfig({ ...production, AKKOORD_SESSION_SECRET: undefined }),
    /AKKOORD_SESSION_SECRET/,
  );
  assert.throws(
    () => readConfig({ ...production, AKKOORD_OIDC_ISSUER: undefined }),
    /AKKOORD_OIDC_ISSUER/,
  );
  const { AKKOORD_DEV_LOGIN: _a, AKKOORD_DEMO_DATA: _b, ...defaults } = production;
  assert.equal(readConfig(defaults).devLogin, false, "production turns the development login off");
  assert.deepEqual(readConfig(defaults).operators, { admin: [], auditor: [] });
  const operated = readConfig({
    ...production,
    AKKOORD_ADMIN_ORGANISATIONS: "01234567, 07654321",
    AKKOORD_AUDITOR_ORGANISATIONS: "00000001",
  });
  assert.deepEqual(operated.operators, { admin: ["01234567", "07654321"], auditor: ["00000001"] });
});

Deno.test("with Deno KV, production needs the signing key; development keeps its own in KV", () => {
  const production = {
    AKKOORD_MODE: "production",
    AKKOORD_PUBLIC_URL: "https://akkoord.example",
    AKKOORD_OIDC_ISSUER: "https://broker.example",
    AKKOORD_SESSION_SECRET: "s".repeat(32),
    AKKOORD_STORE: "kv",
  };
  assert.throws(
    () => readConfig(production),
    (error: Error) =>
      error instanceof ConfigError &&
      /AKKOORD_SIGNING_KEY .* is required in production/.test(error.message),
  );
  assert.throws(
    () =>
      readConfig({ ...production, AKKOORD_SESSION_SECRET: undefined, AKKOORD_SIGNING_KEY: "k" }),
    /AKKOORD_SESSION_SECRET/,
  );
  const keyed = readConfig({ ...production, AKKOORD_SIGNING_KEY: "k" }).store;
  assert.ok(keyed.kind === "kv" && keyed.signingKey === "k");
  const development = readConfig({ AKKOORD_STORE: "kv", AKKOORD_DATA_DIR: "/srv/a" });
  assert.deepEqual(development.store, {
    kind: "kv",
    kvPath: "/srv/a/history.kv",
    signingKey: null,
  });
  assert.equal(development.sessionSecret, null, "kept in the KV database, made on first start");
});

Deno.test("the service refuses to start on a bad variable and says which", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname],
      env: await withTestStore(dir, {
        AKKOORD_DATA_DIR: dir,
        AKKOORD_PORT: "not-a-port",
        NO_COLOR: "1",
      }),
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 1);
    assert.match(new TextDecoder().decode(output.stderr), /Akkoord cannot start: .*AKKOORD_PORT/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// The disk store locks its data directory; a KV history is shared by several processes by design.
Deno.test(
  onlyOn("disk", "a second process on the same data directory is refused with a clear message"),
  async () => {
    const dir = await Deno.makeTempDir();
    const { startTestService } = await import("./helpers/service.ts");
    const first = await startTestService({}, dir);
    try {
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname],
        env: { AKKOORD_DATA_DIR: dir, AKKOORD_PORT: "0", NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(output.code, 1);
      assert.match(
        new TextDecoder().decode(output.stderr),
        /Akkoord cannot start: .*(in use|another process|locked)/i,
      );
    } finally {
      await first.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
