import assert from "node:assert/strict";
import { BOARD, headOf, offer, withService } from "./helpers/board_flow.ts";
import { sampleOffer, type TestService } from "./helpers/service.ts";
import { historyGitDir } from "./helpers/test_store.ts";

const PARALLEL = 6;

async function commitsSince(service: TestService, from: string): Promise<string[]> {
  const log = await new Deno.Command("git", {
    args: ["--git-dir", await historyGitDir(service.dir), "log", "--format=%H", `${from}..HEAD`],
  }).output();
  return new TextDecoder().decode(log.stdout).split("\n").filter(Boolean);
}

async function answer(response: Response) {
  return {
    status: response.status,
    replayed: response.headers.get("Idempotent-Replayed"),
    body: await response.json(),
  };
}

Deno.test("idempotency: parallel offers with one key and different bodies commit once", () =>
  withService(async (service) => {
    const before = await headOf(service);
    const base = await sampleOffer([BOARD.id]);
    const answers = await Promise.all(
      Array.from({ length: PARALLEL }, async (_, i) =>
        await answer(
          await offer(service, { ...base, text: `${base.text}\nVariant ${i}.\n` }, {
            "Idempotency-Key": "race-1",
          }),
        )),
    );

    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [201, ...Array(PARALLEL - 1).fill(422)]);
    for (const refused of answers.filter((a) => a.status === 422)) {
      assert.equal(refused.body.type, "urn:akkoord:problem:idempotency_key_reused");
    }
    assert.equal((await commitsSince(service, before)).length, 1);
  }));

Deno.test("idempotency: parallel retries of one request commit once and replay the rest", () =>
  withService(async (service) => {
    const before = await headOf(service);
    const body = await sampleOffer([BOARD.id]);
    const answers = await Promise.all(
      Array.from(
        { length: PARALLEL },
        async () => await answer(await offer(service, body, { "Idempotency-Key": "race-2" })),
      ),
    );

    assert.ok(answers.every((a) => a.status === 201), JSON.stringify(answers));
    assert.equal(answers.filter((a) => a.replayed === "true").length, PARALLEL - 1);
    for (const a of answers) assert.deepEqual(a.body, answers[0]!.body);
    assert.equal((await commitsSince(service, before)).length, 1);
  }));

Deno.test("idempotency: a key whose offer changed nothing is remembered too", () =>
  withService(async (service) => {
    const first = await sampleOffer([BOARD.id]);
    assert.equal((await offer(service, first)).status, 201);
    const head = await headOf(service);

    const unchanged = await answer(await offer(service, first, { "Idempotency-Key": "calm-1" }));
    assert.equal(unchanged.status, 200);
    assert.equal(unchanged.body.agreements[0].outcome, "unchanged");

    const other = { ...first, text: `${first.text}\nAnother clause.\n` };
    const reused = await answer(await offer(service, other, { "Idempotency-Key": "calm-1" }));
    assert.equal(reused.status, 422);
    assert.equal(reused.body.type, "urn:akkoord:problem:idempotency_key_reused");

    const retry = await answer(await offer(service, first, { "Idempotency-Key": "calm-1" }));
    assert.equal(retry.status, 200);
    assert.equal(retry.replayed, "true");
    assert.deepEqual(retry.body, unchanged.body);
    assert.equal(await headOf(service), head);
  }));
