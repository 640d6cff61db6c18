import assert from "node:assert/strict";
import { DEMO_OPERATOR_KVK } from "../config.ts";
import {
  acceptTerms,
  adminUser,
  BOARD,
  boardUser,
  headOf,
  nonAdmins,
  offer,
  OTHER_BOARD,
  withService,
} from "./helpers/board_flow.ts";
import { git } from "./helpers/git.ts";
import { Browser, sampleOffer, type TestService } from "./helpers/service.ts";
import { historyGitDir, outboxMails } from "./helpers/test_store.ts";
import { runVerify } from "./helpers/verify_cli.ts";

const PAGE = "/admin/besturen";
const HEADER = "bevoegd_gezag,kvk,naam,sector,contact_email";
const SECTORS = ["bo", "vo", "bo+so", "mbo", "ho"];
/** The registry of the demo data: DUO's 75 boards in seed/duo_besturen.csv. */
const DEMO_BOARDS = 75;
/** The demo data's name of {@link OTHER_BOARD}. */
const OTHER_BOARD_NAME = "Stichting voor Openbaar Voortgezet Onderwijs Fryslân-Noord";

/** Row `i` of a generated registry: ids with leading zeros, a name with a comma. */
function boardRow(i: number): string[] {
  return [
    String(2000 + i).padStart(5, "0"),
    `0${7000000 + i}`,
    `Stichting Proefbestuur ${i}, regio Noord`,
    SECTORS[i % SECTORS.length]!,
    `bestuur${i}@registratie.example`,
  ];
}

/** A registry file: the header, then one CSV line per row (quoted where needed), CRLF. */
function csvOf(rows: string[][]): string {
  const quote = (cell: string) => /[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
  return [HEADER, ...rows.map((row) => row.map(quote).join(","))].join("\r\n") + "\r\n";
}

function admin(service: TestService, name?: string): Promise<Browser> {
  return adminUser(service, PAGE, name);
}

/** Posts a multipart form as the page would: the CSRF token, Origin, fields and a file. */
async function post(
  browser: Browser,
  service: TestService,
  path: string,
  fields: Record<string, string>,
  file?: { name: string; content: string | Uint8Array<ArrayBuffer> },
): Promise<{ status: number; html: string }> {
  const form = new FormData();
  form.append("_csrf", browser.csrf);
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  if (file) form.append("csvFile", new File([file.content], file.name, { type: "text/csv" }));
  const response = await browser.request(path, {
    method: "POST",
    body: form,
    headers: { Origin: service.url },
  });
  return { status: response.status, html: await response.text() };
}

/** The value of a hidden field of a page, unescaped. */
function hidden(html: string, name: string): string {
  const value = new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];
  assert.ok(value !== undefined, `the page has a hidden field "${name}"`);
  return value.replaceAll("&quot;", '"').replaceAll("&lt;", "<").replaceAll("&gt;", ">")
    .replaceAll("&#39;", "'").replaceAll("&amp;", "&");
}

/** Checks a file ("Controleren") and returns the preview page and what it carries on. */
async function check(
  browser: Browser,
  service: TestService,
  csv: string,
  asFile = false,
): Promise<{ status: number; html: string; csv: string; fingerprint: string }> {
  const page = asFile
    ? await post(browser, service, `${PAGE}/controleren`, {}, {
      name: "besturen.csv",
      content: csv,
    })
    : await post(browser, service, `${PAGE}/controleren`, { csv });
  assert.equal(page.status, 200, page.html);
  return { ...page, csv: hidden(page.html, "csv"), fingerprint: hidden(page.html, "fingerprint") };
}

/** Registers a checked file ("Registreren") with what its preview carried. */
function register(
  browser: Browser,
  service: TestService,
  preview: { csv: string; fingerprint: string },
): Promise<{ status: number; html: string }> {
  return post(browser, service, PAGE, { csv: preview.csv, fingerprint: preview.fingerprint });
}

function counts(html: string): Record<string, number> {
  const count = (label: string) => Number(new RegExp(`${label}: (\\d+)`).exec(html)?.[1]);
  return {
    added: count("Nieuw"),
    changed: count("Gewijzigd"),
    unchanged: count("Ongewijzigd"),
    untouched: count("Niet in het bestand, blijven zoals ze zijn"),
  };
}

async function gitAt(service: TestService, ...args: string[]): Promise<string> {
  return await git(["--git-dir", await historyGitDir(service.dir), ...args]);
}

/** The mails in the outbox to `to`, once the outbox caught up. */
async function mailsTo(service: TestService, to: string) {
  await (await fetch(`${service.url}/dev/outbox`)).body?.cancel();
  return (await outboxMails(service.dir)).filter((mail) => mail.to === to);
}

Deno.test("a 1,200-row CSV registers 1,200 boards in one commit by the admin; again, nothing", () =>
  withService(async (service) => {
    const browser = await admin(service);
    const overview = await browser.page("/admin");
    assert.match(overview.html, /href="\/admin\/besturen"/, "the admin overview links the page");

    const rows = Array.from({ length: 1200 }, (_, i) => boardRow(i + 1));
    const csv = csvOf(rows);
    const before = await headOf(service);
    const preview = await check(browser, service, csv, true);
    assert.deepEqual(counts(preview.html), {
      added: 1200,
      changed: 0,
      unchanged: 0,
      untouched: DEMO_BOARDS,
    });
    assert.match(preview.html, />\s*Registreren\s*</);
    assert.equal(preview.csv, csv, "the preview carries the uploaded file on");
    assert.equal(await headOf(service), before, "checking registers nothing");

    const done = await register(browser, service, preview);
    assert.equal(done.status, 200, done.html);
    assert.match(done.html, /1200 besturen geregistreerd: 1200 nieuw, 0 gewijzigd/);
    const after = await headOf(service);
    assert.ok(done.html.includes(after), "the result names the commit");

    const gitdir = await historyGitDir(service.dir);
    const inHistory = (...args: string[]) => git(["--git-dir", gitdir, ...args]);
    const commits = await inHistory("rev-list", `${before}..${after}`);
    assert.equal(commits.trim().split("\n").length, 1, "one file, one commit");
    const changed = (await inHistory("diff-tree", "--no-commit-id", "--name-only", "-r", after))
      .trim().split("\n");
    assert.equal(changed.length, 1200);
    assert.ok(changed.every((path) => /^boards\/\d{5}\.json$/.test(path)));
    const listed = (await inHistory("ls-tree", "--name-only", after, "boards/"))
      .trim().split("\n");
    assert.equal(listed.length, 1200 + DEMO_BOARDS);
    assert.ok(listed.includes("boards/02042.json") && listed.includes("boards/03200.json"));
    assert.deepEqual(JSON.parse(await inHistory("show", `${after}:boards/02042.json`)), {
      id: "02042",
      kvk: "07000042",
      name: "Stichting Proefbestuur 42, regio Noord",
      sector: SECTORS[42 % SECTORS.length],
      contactEmail: "bestuur42@registratie.example",
    });
    const trailers = await inHistory("log", "-1", "--format=%an%n%(trailers:unfold)", after);
    assert.match(trailers, /^Ada Beheer\n/);
    assert.match(trailers, /^Event: board-registered$/m);
    assert.match(trailers, /^Role: beheer$/m);
    assert.match(trailers, new RegExp(`^Organisation: ${DEMO_OPERATOR_KVK}$`, "m"));
    await inHistory("fsck", "--strict", "--no-dangling");
    // An auditor's verifier accepts a registration by an administrator.
    const signers = `${service.dir}/allowed_signers.auditor`;
    const published = await fetch(`${service.url}/.well-known/akkoord/allowed_signers`);
    await Deno.writeTextFile(signers, await published.text());
    const verified = await runVerify([gitdir, "--allowed-signers", signers]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);

    // The board appears: in the admin's overview, and for its own people.
    assert.ok(
      (await browser.page("/admin")).html.includes("Stichting Proefbestuur 42, regio Noord"),
    );
    const board = await boardUser(service, { id: "02042", kvk: "07000042" }, ["beoordelen"]);
    const own = await board.page("/boards/02042");
    assert.equal(own.status, 200);
    assert.match(own.html, /Stichting Proefbestuur 42, regio Noord/);

    // An offer to it mails its registered contact address.
    assert.equal((await offer(service, await sampleOffer(["02042"]))).status, 201);
    assert.equal((await mailsTo(service, "bestuur42@registratie.example")).length, 1);

    // The same file again: nothing is new or changed, and registering makes no commit.
    const head = await headOf(service);
    const again = await check(browser, service, csv);
    assert.deepEqual(counts(again.html), {
      added: 0,
      changed: 0,
      unchanged: 1200,
      untouched: DEMO_BOARDS,
    });
    assert.match(again.html, /Registreren verandert niets/);
    assert.doesNotMatch(again.html, />\s*Registreren\s*</, "no button when nothing changes");
    const same = await register(browser, service, again);
    assert.equal(same.status, 200);
    assert.match(same.html, /Er is niets veranderd/);
    assert.equal(await headOf(service), head, "no commit");
  }));

Deno.test("a changed board shows what changes, keeps its terms and gets mail at its new address", () =>
  withService(async (service) => {
    const person = await boardUser(service, BOARD, ["beoordelen"]);
    await acceptTerms(person, BOARD.id);
    const accepted = JSON.parse(
      await gitAt(service, "show", `main:boards/${BOARD.id}.json`),
    ).termsAccepted;
    assert.ok(accepted, "the board accepted the terms of use");

    const browser = await admin(service);
    const csv = csvOf([
      [BOARD.id, BOARD.kvk, "Stichting Van Hall Larenstein", "ho", "fg@vanhall.example"],
      [
        OTHER_BOARD.id,
        OTHER_BOARD.kvk,
        OTHER_BOARD_NAME,
        "bo+vo",
        "privacy@bg13603.besturen.example",
      ],
      boardRow(7),
    ]);
    const preview = await check(browser, service, csv);
    assert.deepEqual(counts(preview.html), {
      added: 1,
      changed: 1,
      unchanged: 1,
      untouched: DEMO_BOARDS - 2,
    });
    assert.match(
      preview.html,
      /contactadres: privacy@bg41344\.besturen\.example wordt fg@vanhall\.example/,
    );
    assert.doesNotMatch(preview.html, /naam: /, "the name stays");

    const done = await register(browser, service, preview);
    assert.equal(done.status, 200, done.html);
    assert.match(done.html, /2 besturen geregistreerd: 1 nieuw, 1 gewijzigd\. 1 ongewijzigd/);
    const stored = JSON.parse(await gitAt(service, "show", `main:boards/${BOARD.id}.json`));
    assert.equal(stored.contactEmail, "fg@vanhall.example");
    assert.deepEqual(stored.termsAccepted, accepted, "the terms stay accepted");
    const files = await gitAt(service, "show", "--name-only", "--format=", "main");
    assert.deepEqual(files.trim().split("\n").sort(), [
      "boards/02007.json",
      `boards/${BOARD.id}.json`,
    ]);

    assert.equal((await offer(service, await sampleOffer([BOARD.id]))).status, 201);
    assert.ok((await mailsTo(service, "fg@vanhall.example")).length >= 1);
    assert.equal((await mailsTo(service, `privacy@bg${BOARD.id}.besturen.example`)).length, 0);
  }));

Deno.test("a file with invalid rows registers nothing and names each row and what is wrong", () =>
  withService(async (service) => {
    const browser = await admin(service);
    const before = await headOf(service);
    const csv = csvOf([
      ["00001", "07000001", "Stichting Een, regio Noord", "vo", "een@registratie.example"],
      ["1234", "07000002", "Stichting Twee", "bo", "twee@registratie.example"],
      ["00003", "7000003", "Stichting Drie", "bo", "drie@registratie.example"],
      ["00004", "07000004", "Stichting\u200BVier", "bo", "vier@registratie.example"],
      ["00005", "07000005", "Stichting Vijf", "po", "vijf@registratie.example"],
      ["00006", "07000006", "Stichting Zes", "vo", "zes@registratie.example; info@zes.example"],
      ["00001", "07000007", "Stichting Zeven", "bo", "zeven@registratie.example"],
      ["00008", "07000008", "Stichting Acht", "bo"],
      ["00009", "07000009", "", "bo", "negen@registratie.example"],
    ]);
    const refused = await post(browser, service, `${PAGE}/controleren`, { csv });
    assert.equal(refused.status, 422);
    const { html } = refused;
    assert.match(html, /8 rijen kloppen niet \(rij 3, 4, 5, 6, 7, 8, 9, 10\)/);
    assert.match(html, /er is niets geregistreerd/);
    assert.match(
      html,
      /Rij 3: het DUO-nummer \(bevoegd_gezag\) &quot;1234&quot; is geen nummer van 5 cijfers\. Zijn de voorloopnullen weggevallen\?/,
    );
    assert.match(html, /Rij 4: het KvK-nummer &quot;7000003&quot; is geen nummer van 8 cijfers/);
    assert.match(html, /Rij 5: de naam bevat op teken 10 het onzichtbare teken U\+200B/);
    assert.match(html, /Rij 6: de sector &quot;po&quot; is geen bo, so, vo, mbo of ho/);
    assert.match(
      html,
      /Rij 7: het contactadres &quot;zes@registratie\.example; info@zes\.example&quot; is geen geldig e-mailadres/,
    );
    assert.match(html, /Rij 8: DUO-nummer 00001 staat ook al in rij 2/);
    assert.match(html, /Rij 9: heeft 4 kolommen, verwacht 5/);
    assert.match(html, /Rij 10: de naam ontbreekt/);
    assert.doesNotMatch(html, /Rij 2:/, "the valid row is not named");
    assert.match(html, /Stichting Een, regio Noord/, "the pasted text is shown again");
    assert.match(html, /zeven@registratie\.example/);

    const direct = await post(browser, service, PAGE, { csv, fingerprint: "0".repeat(64) });
    assert.equal(direct.status, 422, "registering without checking is refused the same way");

    const header = await post(browser, service, `${PAGE}/controleren`, {
      csv: "bevoegd_gezag,kvk,naam,sector\r\n41344,01087061,Stichting,ho\r\n",
    });
    assert.equal(header.status, 422);
    assert.match(
      header.html,
      /De eerste regel moet precies bevoegd_gezag,kvk,naam,sector,contact_email zijn/,
    );

    const latin1 = await post(browser, service, `${PAGE}/controleren`, {}, {
      name: "besturen.csv",
      content: new Uint8Array([
        ...new TextEncoder().encode(`${HEADER}\n00001,07000001,Fryslân`),
        0xe2,
      ]),
    });
    assert.equal(latin1.status, 422);
    assert.match(latin1.html, /is geen tekst in UTF-8/);

    assert.equal(await headOf(service), before, "nothing was registered");
  }));

Deno.test("only an admin may see the registry page and register boards", () =>
  withService(async (service) => {
    const anonymous = new Browser(service.url);
    assert.equal((await anonymous.page(PAGE)).status, 401);

    const { person, supplier, auditor } = await nonAdmins(service);
    assert.equal((await person.page(PAGE)).status, 403);

    const csv = csvOf([boardRow(1)]);
    const before = await headOf(service);
    for (const browser of [person, supplier, auditor]) {
      const preview = await post(browser, service, `${PAGE}/controleren`, { csv });
      assert.equal(preview.status, 403);
      assert.match(preview.html, /Alleen beheerders registreren schoolbesturen/);
      const done = await post(browser, service, PAGE, { csv, fingerprint: "0".repeat(64) });
      assert.equal(done.status, 403);
    }
    assert.doesNotMatch((await person.page(`/boards/${BOARD.id}`)).html, /admin\/besturen/);
    assert.equal(await headOf(service), before);
  }));

Deno.test("a preview made stale by another registration is refused and shown again", () =>
  withService(async (service) => {
    const first = await admin(service, "Ada Beheer");
    const second = await admin(service, "Bert Beheer");
    const mine = await check(
      first,
      service,
      csvOf([[BOARD.id, BOARD.kvk, "Stichting Van Hall Larenstein", "ho", "ada@vanhall.example"]]),
    );
    const theirs = await check(
      second,
      service,
      csvOf([[BOARD.id, BOARD.kvk, "Stichting Van Hall Larenstein", "ho", "bert@vanhall.example"]]),
    );
    assert.equal((await register(second, service, theirs)).status, 200);
    const head = await headOf(service);

    const stale = await register(first, service, mine);
    assert.equal(stale.status, 409);
    assert.match(stale.html, /Sinds u de lijst controleerde, is het register veranderd/);
    assert.match(stale.html, /Er is niets geregistreerd/);
    assert.match(stale.html, /bert@vanhall\.example wordt ada@vanhall\.example/);
    assert.equal(await headOf(service), head, "the stale preview registered nothing");
    const stored = JSON.parse(await gitAt(service, "show", `main:boards/${BOARD.id}.json`));
    assert.equal(stored.contactEmail, "bert@vanhall.example");

    const fresh = {
      csv: hidden(stale.html, "csv"),
      fingerprint: hidden(stale.html, "fingerprint"),
    };
    assert.notEqual(fresh.fingerprint, mine.fingerprint);
    assert.equal((await register(first, service, fresh)).status, 200);
    const now = JSON.parse(await gitAt(service, "show", `main:boards/${BOARD.id}.json`));
    assert.equal(now.contactEmail, "ada@vanhall.example");
  }));

Deno.test("the same registration sent twice commits once; the second says it is already there", () =>
  withService(async (service) => {
    const browser = await admin(service);
    const preview = await check(browser, service, csvOf([boardRow(1), boardRow(2)]));
    const before = await headOf(service);
    const pages = await Promise.all([
      register(browser, service, preview),
      register(browser, service, preview),
    ]);
    assert.deepEqual(pages.map((page) => page.status), [200, 200]);
    assert.ok(
      pages.some((page) => /staan al zo in het register/.test(page.html)),
      "one answer says the boards are registered already",
    );
    assert.ok(pages.every((page) => !/Sinds u de lijst controleerde/.test(page.html)));
    const commits = await gitAt(service, "rev-list", `${before}..${await headOf(service)}`);
    assert.equal(commits.trim().split("\n").length, 1);
  }));

Deno.test("a list near the size limit registers though the browser posts it back with CRLF", () =>
  withService(async (service) => {
    const browser = await admin(service);
    // 5,000 rows of 300-character names in two-byte characters and long addresses: within
    // 2 KB of 4 MiB with LF line breaks, past it with CRLF.
    const rows = Array.from({ length: 5000 }, (_, i) => {
      const row = boardRow(i + 1);
      row[2] = `${"é".repeat(290)} ${String(i).padStart(9, "0")}`;
      row[4] = `bestuur${i}-${"z".repeat(25)}@${"a".repeat(60)}.${"b".repeat(60)}.${
        "c".repeat(60)
      }.example`;
      return row;
    });
    const lf = [HEADER, ...rows.map((row) => row.join(","))].join("\n") + "\n";
    const bytes = new TextEncoder().encode(lf).length;
    assert.ok(bytes + 5001 > 4 * 1024 * 1024 && bytes <= 4 * 1024 * 1024, `${bytes} bytes`);
    const preview = await check(browser, service, lf, true);
    assert.equal(counts(preview.html).added, 5000);
    // A browser sends the hidden field's line breaks as CRLF: 5,001 bytes more.
    const crlf = preview.csv.replaceAll("\r\n", "\n").replaceAll("\n", "\r\n");
    const done = await register(browser, service, { csv: crlf, fingerprint: preview.fingerprint });
    assert.equal(done.status, 200, done.html.slice(0, 500));
    assert.match(done.html, /5000 besturen geregistreerd: 5000 nieuw/);

    // A list just over the limit is refused by the page itself, with the reason.
    const over = lf + "x".repeat(4 * 1024 * 1024 + 1000 - bytes);
    const refused = await post(browser, service, `${PAGE}/controleren`, {}, {
      name: "te-groot.csv",
      content: over,
    });
    assert.equal(refused.status, 422);
    assert.match(refused.html, /De lijst is groter dan 4 MB/);
  }));
