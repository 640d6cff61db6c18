/// <reference lib="deno.unstable" />
import assert from "node:assert/strict";
import { DEMO_OPERATOR_KVK } from "../config.ts";
import type { OutboxMail } from "../store/outbox.ts";
import {
  acceptTerms,
  agreementPath,
  agreementStatus,
  BOARD,
  boardUser,
  offer,
  versionFields,
} from "./helpers/board_flow.ts";
import { Browser, sampleOffer, type TestService } from "./helpers/service.ts";
import { run } from "./helpers/git.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const PERMISSION_TROUBLE = /Requires \w+ access|PermissionDenied|NotCapable|--allow-|permission/i;

/** The service as `deno task start` runs it, but allowed to write only its KV file. */
async function startChild(dir: string) {
  const kvPath = `${dir}/history.kv`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-env",
      `--allow-write=${kvPath},${kvPath}-wal,${kvPath}-shm`,
      "--deny-run",
      "main.ts",
    ],
    cwd: ROOT,
    env: {
      AKKOORD_STORE: "kv",
      AKKOORD_DATA_DIR: dir,
      AKKOORD_HOSTNAME: "127.0.0.1",
      AKKOORD_PORT: "0",
      NO_COLOR: "1",
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = collect(child.stderr);
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let stdout = "";
  while (!/Mail outbox: /.test(stdout)) {
    const { value, done } = await reader.read();
    if (done) {
      throw new Error(`The service did not start:\n${stdout}\n${await stderr}`);
    }
    stdout += value;
  }
  const url = /listens on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1];
  assert.ok(url, stdout);
  return {
    url,
    stdout,
    async stop(): Promise<string> {
      child.kill("SIGTERM");
      await reader.cancel();
      await child.status;
      return await stderr;
    },
  };
}

async function collect(stream: ReadableStream<Uint8Array<ArrayBuffer>>): Promise<string> {
  return await new Response(stream).text();
}

Deno.test("with AKKOORD_STORE=kv the main job needs no file but the KV database and no process", async () => {
  const dir = await Deno.makeTempDir({ prefix: "akkoord-kv-no-disk-" });
  const clone = await Deno.makeTempDir({ prefix: "akkoord-kv-clone-" });
  const child = await startChild(dir);
  let stderr = "";
  try {
    assert.match(
      child.stdout,
      /Deno KV, ".*history\.kv" \(signing key, session secret/,
      "main.ts names the KV database",
    );
    const service = { url: child.url, dir } as TestService;

    const offered = await offer(service, await sampleOffer([BOARD.id]), {
      "Idempotency-Key": "no-disk-1",
    });
    assert.equal(offered.status, 201, await offered.clone().text());
    const replayed = await offer(service, await sampleOffer([BOARD.id]), {
      "Idempotency-Key": "no-disk-1",
    });
    assert.equal(replayed.headers.get("Idempotent-Replayed"), "true");
    await replayed.body?.cancel();

    const person = await boardUser(service, BOARD, ["beoordelen", "ondertekenen"]);
    await acceptTerms(person, BOARD.id);
    const shown = versionFields(await agreementStatus(service, BOARD.id));
    await person.page(agreementPath(BOARD.id));
    assert.equal((await person.submit(agreementPath(BOARD.id, "approve"), shown)).status, 303);
    await person.page(agreementPath(BOARD.id, "sign"));
    const signed = await person.submit(agreementPath(BOARD.id, "sign"), {
      ...shown,
      confirm: "on",
    });
    assert.equal(signed.status, 303);
    assert.equal((await agreementStatus(service, BOARD.id)).state, "signed");

    const pdf = await person.request(agreementPath(BOARD.id, `versions/${shown.version}.pdf`));
    assert.equal(pdf.status, 200);
    const bytes = new Uint8Array(await pdf.arrayBuffer());
    assert.equal(new TextDecoder().decode(bytes.subarray(0, 5)), "%PDF-");

    const auditor = new Browser(child.url);
    const landed = await auditor.login({
      organisation: DEMO_OPERATOR_KVK,
      name: "Eva Auditor",
      mandates: ["auditor"],
    });
    assert.equal(landed.status, 303);
    await auditor.page("/tokens");
    const created = await auditor.submit("/tokens", { label: "Controle", days: "7" });
    const secret = /akk_[A-Za-z0-9_-]{43}/.exec(await created.text())?.[0];
    assert.ok(secret, "the token page shows the new secret once");
    const origin = new URL(child.url);
    await run("git", [
      "clone",
      "--quiet",
      "--bare",
      `http://audit:${secret}@${origin.host}/history.git`,
      `${clone}/history.git`,
    ]);
    const log = await run("git", ["--git-dir", `${clone}/history.git`, "log", "--format=%s"]);
    assert.ok(log.split("\n").length > 3, log);
    await run("git", ["--git-dir", `${clone}/history.git`, "fsck", "--strict"]);
  } finally {
    stderr = await child.stop();
  }
  try {
    assert.doesNotMatch(stderr, PERMISSION_TROUBLE, stderr);
    const errors = stderr.split("\n").filter((line) => line.includes('"level":"error"'));
    assert.deepEqual(errors, []);
    const files = (await Array.fromAsync(Deno.readDir(dir))).map((entry) => entry.name).sort();
    assert.ok(files.every((name) => /^history\.kv(-wal|-shm)?$/.test(name)), files.join(", "));

    const kv = await Deno.openKv(`${dir}/history.kv`);
    try {
      const mails = await Array.fromAsync(
        kv.list<OutboxMail>({ prefix: ["akkoord", "outbox", "mails"] }),
      );
      assert.ok(
        mails.some((entry) => entry.value.to.includes(`bg${BOARD.id}`)),
        "the offer's mail to the board is composed into the KV outbox",
      );
      const sessions = await Array.fromAsync(kv.list({ prefix: ["akkoord", "sessions"] }));
      assert.ok(sessions.length >= 2, "both logins are sessions in KV");
      const tokens = await Array.fromAsync(kv.list({ prefix: ["akkoord", "access_tokens"] }));
      assert.equal(tokens.length, 1);
      for (const name of ["signing_key", "session_secret", "dev_broker_key"]) {
        assert.equal(typeof (await kv.get(["akkoord", "secrets", name])).value, "string", name);
      }
      const cursor = (await kv.get(["akkoord", "outbox", "cursor"])).value;
      const head = (await kv.get(["history", "refs", "refs/heads/main"])).value;
      assert.equal(cursor, head, "the outbox followed the history to its head");
    } finally {
      kv.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(clone, { recursive: true });
  }
});
