import assert from "node:assert/strict";
import { ConfigError, readConfig } from "../config.ts";
import { generateSigningKey } from "../store/signing_key.ts";
import { startTestService } from "./helpers/service.ts";
import { onlyOn } from "./helpers/test_store.ts";

Deno.test("AKKOORD_STORE chooses the history backend and its KV database", async () => {
  const { file } = await generateSigningKey();
  assert.deepEqual(readConfig({ AKKOORD_DATA_DIR: "/srv/akkoord" }).store, { kind: "disk" });
  const kv = { AKKOORD_DATA_DIR: "/srv/akkoord", AKKOORD_STORE: "kv", AKKOORD_SIGNING_KEY: file };
  assert.deepEqual(readConfig(kv).store, {
    kind: "kv",
    kvPath: "/srv/akkoord/history.kv",
    signingKey: file,
  });
  assert.equal(readConfig({ ...kv, AKKOORD_KV_PATH: "/var/kv/a.kv" }).store.kind, "kv");
  const deployed = readConfig({ ...kv, DENO_DEPLOYMENT_ID: "abc123" }).store;
  assert.ok(deployed.kind === "kv" && deployed.kvPath === null, "Deno.openKv() without a path");
});

Deno.test("in production a KV store needs a signing key; a key for the disk store is refused", () => {
  const production = {
    AKKOORD_MODE: "production",
    AKKOORD_PUBLIC_URL: "https://akkoord.example",
    AKKOORD_OIDC_ISSUER: "https://broker.example",
    AKKOORD_SESSION_SECRET: "s".repeat(32),
  };
  assert.equal(
    readConfig({ AKKOORD_STORE: "kv" }).store.kind,
    "kv",
    "development keeps a key in KV",
  );
  assert.throws(
    () => readConfig({ ...production, AKKOORD_STORE: "kv" }),
    (error: Error) =>
      error instanceof ConfigError && /AKKOORD_SIGNING_KEY .* is required/.test(error.message),
  );
  assert.throws(
    () => readConfig({ AKKOORD_SIGNING_KEY: "x" }),
    /AKKOORD_SIGNING_KEY is only read when AKKOORD_STORE is kv/,
  );
  assert.throws(() => readConfig({ AKKOORD_STORE: "git" }), /AKKOORD_STORE is not valid/);
});

// Starts services on KV explicitly; the disk run has nothing to add to it.
Deno.test(
  onlyOn("kv", "a signing key that is not an OpenSSH key stops the start without quoting it"),
  async () => {
    const data = await Deno.makeTempDir({ prefix: "akkoord-kv-config-" });
    try {
      const secret = "not-a-key-but-a-secret-value";
      await assert.rejects(
        startTestService({ AKKOORD_STORE: "kv", AKKOORD_SIGNING_KEY: secret }, data),
        (error: Error) => {
          assert.match(error.message, /OPENSSH PRIVATE KEY/);
          assert.ok(!error.message.includes(secret));
          return true;
        },
      );
      const { file } = await generateSigningKey();
      const escaped = file.replaceAll("\n", "\\n");
      const service = await startTestService(
        { AKKOORD_STORE: "kv", AKKOORD_SIGNING_KEY: escaped },
        data,
      );
      const signers = await (await fetch(`${service.url}/.well-known/akkoord/allowed_signers`))
        .text();
      await service.close();
      assert.match(signers, /^akkoord@history namespaces="git" ssh-ed25519 AAAA\S+\n$/);
    } finally {
      await Deno.remove(data, { recursive: true });
    }
  },
);
