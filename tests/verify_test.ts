import { runVerify as verify } from "./helpers/verify_cli.ts";
import assert from "node:assert/strict";
import {
  acceptTerms,
  agreementPath,
  agreementStatus,
  BOARD,
  boardUser,
  offer,
  OTHER_BOARD,
  SUPPLIER,
  versionFields,
} from "./helpers/board_flow.ts";
import { HISTORY_README } from "../domain/history_readme.ts";
import { git } from "./helpers/git.ts";
import {
  sampleOffer,
  startTestService,
  supplierToken,
  type TestService,
} from "./helpers/service.ts";
import {
  commitText,
  commitTree,
  events,
  lastEvent,
  newSshKey,
  rewriteFrom,
  setMain,
  treeWith,
  writeCommit,
} from "./helpers/tamper.ts";
import { historyGitDir, signingKeyFile } from "./helpers/test_store.ts";

const WITHDRAWN_BOARD = "41282";

async function withdraw(service: TestService, board: string): Promise<void> {
  const shown = versionFields(await agreementStatus(service, board));
  const response = await fetch(`${service.url}/api/v1/agreements/${board}/withdraw`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${await supplierToken(service, SUPPLIER)}`,
      "Content-Type": "application/json",
    },
    body: JSON.stringify({ ...shown, version: Number(shown.version) }),
  });
  assert.equal(response.status, 200, await response.text());
}

/**
 * Every kind of event through the real service: an offer to three boards,
 * terms, a rejection, a new version, an approval and a signature for BOARD,
 * terms without a review for OTHER_BOARD, and a withdrawal.
 */
async function makeHistory(service: TestService): Promise<void> {
  const boards = [BOARD.id, OTHER_BOARD.id, WITHDRAWN_BOARD];
  assert.equal((await offer(service, await sampleOffer(boards))).status, 201);
  const person = await boardUser(service, BOARD, ["beoordelen", "ondertekenen"], "Zoë de Wit");
  await acceptTerms(person, BOARD.id);
  const rejected = await person.submit(agreementPath(BOARD.id, "reject"), {
    ...versionFields(await agreementStatus(service, BOARD.id)),
    reason: "Artikel 9: de meldtermijn van datalekken is te lang.",
  });
  assert.equal(rejected.status, 303);
  const revised = await sampleOffer([BOARD.id]);
  revised.text += "\nAanvulling: meldtermijn 24 uur.\n";
  assert.equal((await offer(service, revised)).status, 201);
  const shown = versionFields(await agreementStatus(service, BOARD.id));
  assert.equal((await person.submit(agreementPath(BOARD.id, "approve"), shown)).status, 303);
  const signed = await person.submit(agreementPath(BOARD.id, "sign"), { ...shown, confirm: "on" });
  assert.equal(signed.status, 303);
  await acceptTerms(await boardUser(service, OTHER_BOARD, ["beoordelen"]), OTHER_BOARD.id);
  await withdraw(service, WITHDRAWN_BOARD);
}

Deno.test("deno task verify accepts the service's history and catches every tampering", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "akkoord-verify-" });
  const service = await startTestService({}, `${dir}/data`);
  try {
    await makeHistory(service);
    const origin = `${dir}/origin.git`;
    await git(["clone", "--bare", "--quiet", await historyGitDir(service.dir), origin]);
    const signers = `${dir}/allowed_signers`;
    const published = `${service.url}/.well-known/akkoord/allowed_signers`;
    await Deno.writeTextFile(signers, await (await fetch(published)).text());
    const realKey = await signingKeyFile(service.dir);
    const chain = await events(origin);
    let cases = 0;
    const tampered = async (name: string) => {
      const path = `${dir}/case-${++cases}-${name}.git`;
      await git(["clone", "--bare", "--quiet", origin, path]);
      return path;
    };
    const refused = async (repository: string, expected: RegExp, extra: string[] = []) => {
      const result = await verify([repository, "--allowed-signers", signers, ...extra]);
      assert.equal(result.code, 1, `expected a violation, got: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, expected);
      return result.stderr;
    };

    await t.step("the untouched history verifies, with a summary per board", async () => {
      const result = await verify([origin, "--allowed-signers", signers]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`verified: ${chain.length} commits`));
      const row = (id: string) => new RegExp(`^${id} .*$`, "m").exec(result.stdout)?.[0] ?? "";
      const cells = (id: string) => row(id).trim().split(/\s{2,}/).slice(-5).map(Number);
      assert.match(row(BOARD.id), /Stichting Van Hall Larenstein/);
      assert.deepEqual(cells(BOARD.id), [1, 0, 0, 0, 6]);
      assert.deepEqual(cells(OTHER_BOARD.id), [0, 2, 0, 0, 3]);
      assert.deepEqual(cells(WITHDRAWN_BOARD), [0, 0, 0, 1, 2]);
      assert.match(result.stdout, /readme-updated 1/);
      const readme = await git(["--git-dir", origin, "show", "HEAD:README.md"]);
      assert.equal(readme, HISTORY_README);
    });

    await t.step("a URL is cloned with stock git; allowed_signers is read from a URL", async () => {
      const result = await verify([`file://${origin}`, "--allowed-signers", published]);
      assert.equal(result.code, 0, result.stderr);
      const since = chain[3]!.oid;
      const resumed = await verify([origin, "--allowed-signers", signers, "--since", since]);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stdout, new RegExp(`${since} is on the chain; ${chain.length - 4}`));
    });

    await t.step("a rewritten commit, re-signed with another key, is refused", async () => {
      const repository = await tampered("rewritten");
      const other = await newSshKey(dir);
      const rejection = await lastEvent(repository, "rejected");
      const head = await rewriteFrom(repository, {
        from: rejection,
        edit: (text) => text.replace("te lang", "acceptabel"),
        key: other,
      });
      assert.notEqual(head, chain.at(-1)!.oid);
      const rewritten = (await events(repository)).find((c) => c.event === "rejected")!.oid;
      const message = await refused(repository, /signature is not valid: .*is not listed/);
      assert.match(message, new RegExp(`Commit ${rewritten} .*event rejected`));
    });

    await t.step("a rewritten commit left unsigned is refused", async () => {
      const repository = await tampered("unsigned");
      await rewriteFrom(repository, {
        from: await lastEvent(repository, "approved"),
        edit: (text) => text.replace(/^Role: beoordelen$/m, "Role: ondertekenen"),
        key: null,
      });
      await refused(repository, /event approved.*the commit is not signed/);
    });

    await t.step(
      "a dropped commit is found even when the rest is re-signed with the real key",
      async () => {
        const repository = await tampered("dropped");
        await rewriteFrom(repository, {
          from: await lastEvent(repository, "approved"),
          edit: () => null,
          key: realKey,
        });
        await refused(
          repository,
          /event signed.*cannot sign version 2 of 41344\/99000001: it is offered, not approved/,
        );
      },
    );

    await t.step("a forged signature (flipped bytes) is refused", async () => {
      const repository = await tampered("forged");
      const head = chain.at(-1)!.oid;
      const text = await commitText(repository, head);
      const lines = text.split("\n");
      const last = lines.findIndex((line) => line === " -----END SSH SIGNATURE-----") - 1;
      const line = lines[last]!;
      lines[last] = " " + (line[1] === "A" ? "B" : "A") + line.slice(2);
      const forged =
        (await git(["--git-dir", repository, "hash-object", "-t", "commit", "-w", "--stdin"], {
          stdin: lines.join("\n"),
        })).trim();
      await setMain(repository, forged);
      await refused(
        repository,
        new RegExp(`Commit ${forged} .*signature .* does not match the commit`),
      );
    });

    await t.step("a signature by a key that allowed_signers does not list is refused", async () => {
      const repository = await tampered("unlisted");
      const other = await newSshKey(dir, "unlisted_key");
      const head = await writeCommit(
        repository,
        await commitText(repository, chain.at(-1)!.oid),
        other,
      );
      await setMain(repository, head);
      await refused(repository, /allowed_signers refuses it: key SHA256:\S+ is not listed/);
    });

    await t.step(
      "a signature event whose Content-SHA256 does not match its content is refused",
      async () => {
        const repository = await tampered("content");
        const fake = "0".repeat(64);
        await rewriteFrom(repository, {
          from: await lastEvent(repository, "signed"),
          edit: (text) =>
            text.replace(/^Content-SHA256: [0-9a-f]{64}$/m, `Content-SHA256: ${fake}`),
          key: realKey,
        });
        await refused(
          repository,
          new RegExp(
            `event signed.*Content-SHA256 ${fake} does not match the content of agreements/41344/99000001/version`,
          ),
        );
      },
    );

    await t.step("a history that does not descend from the checkpoint is refused", async () => {
      const repository = await tampered("checkpoint");
      const kept = chain.at(-1)!.oid;
      await rewriteFrom(repository, {
        from: chain[chain.length - 3]!.oid,
        edit: (text) => text.replace(/\n\n[^\n]+/, "\n\nA quietly reworded subject"),
        key: realKey,
      });
      const clean = await verify([repository, "--allowed-signers", signers]);
      assert.equal(clean.code, 0, `the rewrite itself is consistent: ${clean.stderr}`);
      await refused(repository, new RegExp(`does not descend from checkpoint ${kept}`), [
        "--since",
        kept,
      ]);
    });

    await t.step(
      "a signature without an approval, signed with the real key, is refused",
      async () => {
        const repository = await tampered("state");
        const head = chain.at(-1)!.oid;
        const path = `agreements/${OTHER_BOARD.id}/${SUPPLIER}/status.json`;
        const status = JSON.parse(await git(["--git-dir", repository, "show", `${head}:${path}`]));
        const ref = {
          version: status.current.version,
          oid: status.current.oid,
          contentSha256: status.current.contentSha256,
        };
        const actor = {
          subject: "forger",
          name: "Forger",
          organisation: OTHER_BOARD.kvk,
          assurance: "urn:etoegang:core:assurance-class:loa3",
          role: "ondertekenen",
        };
        const at = "2030-01-01T00:00:00Z";
        const forged = {
          ...status,
          state: "signed",
          inForce: { ...ref, signedAt: at },
          history: [...status.history, { action: "signed", ...ref, at, actor }],
        };
        const tree = await treeWith(repository, head, {
          [path]: JSON.stringify(forged, null, 2) + "\n",
        });
        const message = [
          "Signed version 1 without approval",
          "",
          "Event: signed",
          `Agreement: ${OTHER_BOARD.id}/${SUPPLIER} version ${ref.version}`,
          `Version-Oid: ${ref.oid}`,
          `Content-SHA256: ${ref.contentSha256}`,
          "Actor: forger",
          "Role: ondertekenen",
          `Organisation: ${OTHER_BOARD.kvk}`,
          "Assurance: urn:etoegang:core:assurance-class:loa3",
          "",
        ].join("\n");
        const commit = await commitTree(repository, { tree, parent: head, message, key: realKey });
        assert.match(
          await commitText(repository, commit),
          /^gpgsig -----BEGIN SSH SIGNATURE-----$/m,
        );
        await setMain(repository, commit);
        await refused(
          repository,
          new RegExp(
            `Commit ${commit} .*event signed.*cannot sign version 1 of ${OTHER_BOARD.id}/${SUPPLIER}: it is offered, not approved`,
          ),
        );
      },
    );
  } finally {
    await service.close();
    await Deno.remove(dir, { recursive: true });
  }
});
