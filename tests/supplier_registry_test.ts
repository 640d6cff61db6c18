import assert from "node:assert/strict";
import { DEMO_OPERATOR_KVK } from "../config.ts";
import { adminUser, headOf, nonAdmins, SUPPLIER, withService } from "./helpers/board_flow.ts";
import { git } from "./helpers/git.ts";
import { Browser, type TestService } from "./helpers/service.ts";
import { historyGitDir } from "./helpers/test_store.ts";

const PAGE = "/admin/leveranciers";
/** A supplier the demo data does not register; its KvK number starts with a zero. */
const NEW_SUPPLIER = {
  kvk: "01234567",
  name: "Leerlab Proef B.V.",
  contactEmail: "privacy@leerlab-proef.example",
};

function admin(service: TestService, name?: string): Promise<Browser> {
  return adminUser(service, PAGE, name);
}

/** Posts the supplier form as the page would, and reads the page it answers with. */
async function register(
  browser: Browser,
  fields: Record<string, string>,
): Promise<{ status: number; html: string }> {
  const response = await browser.submit(PAGE, fields);
  return { status: response.status, html: await response.text() };
}

async function gitAt(service: TestService, ...args: string[]): Promise<string> {
  return await git(["--git-dir", await historyGitDir(service.dir), ...args]);
}

/** Whether a person of `kvk` who logs in reaches the supplier's own page. */
async function supplierPage(service: TestService, kvk: string): Promise<number> {
  const browser = new Browser(service.url);
  const landed = await browser.login({ organisation: kvk, name: "Sam Leverancier", mandates: [] });
  await landed.body?.cancel();
  return (await browser.page(`/suppliers/${kvk}`)).status;
}

Deno.test("an admin registers a supplier in one signed commit; it can log in; again, nothing", () =>
  withService(async (service) => {
    const browser = await admin(service);
    const overview = await browser.page("/admin");
    assert.match(overview.html, /href="\/admin\/leveranciers"/, "the admin overview links it");
    assert.notEqual(await supplierPage(service, NEW_SUPPLIER.kvk), 200, "unknown before");

    const before = await headOf(service);
    const done = await register(browser, {
      kvk: ` ${NEW_SUPPLIER.kvk} `,
      name: NEW_SUPPLIER.name,
      contactEmail: NEW_SUPPLIER.contactEmail,
    });
    assert.equal(done.status, 200, done.html);
    assert.match(done.html, /Leerlab Proef B\.V\. \(KvK 01234567\) is geregistreerd/);
    const after = await headOf(service);
    assert.notEqual(after, before);
    assert.ok(done.html.includes(after), "the page names the commit");
    assert.match(done.html, /privacy@leerlab-proef\.example/, "the list shows the supplier");

    const inHistory = async (...args: string[]) => await gitAt(service, ...args);
    assert.equal((await inHistory("rev-parse", `${after}^`)).trim(), before, "one commit");
    assert.deepEqual(
      (await inHistory("diff-tree", "--no-commit-id", "--name-only", "-r", after)).trim(),
      `suppliers/${NEW_SUPPLIER.kvk}.json`,
    );
    assert.deepEqual(JSON.parse(await inHistory("show", `${after}:suppliers/01234567.json`)), {
      id: NEW_SUPPLIER.kvk,
      name: NEW_SUPPLIER.name,
      contactEmail: NEW_SUPPLIER.contactEmail,
    });
    const trailers = await inHistory("log", "-1", "--format=%an%n%(trailers:unfold)", after);
    assert.match(trailers, /^Ada Beheer\n/);
    assert.match(trailers, /^Event: supplier-registered$/m);
    assert.match(trailers, /^Role: beheer$/m);
    assert.match(trailers, new RegExp(`^Organisation: ${DEMO_OPERATOR_KVK}$`, "m"));
    await inHistory("fsck", "--strict", "--no-dangling");

    assert.equal(await supplierPage(service, NEW_SUPPLIER.kvk), 200, "the supplier logs in");

    // The same supplier again: no commit, and the page says so.
    await browser.page(PAGE);
    const again = await register(browser, {
      kvk: NEW_SUPPLIER.kvk,
      name: NEW_SUPPLIER.name,
      contactEmail: NEW_SUPPLIER.contactEmail,
    });
    assert.equal(again.status, 200);
    assert.match(again.html, /stond al zo in het register\. Er is niets veranderd/);
    assert.equal(await headOf(service), after, "no commit");
  }));

Deno.test("an admin changes a registered supplier's name and contact address", () =>
  withService(async (service) => {
    const browser = await admin(service, "Bea Beheer");
    const edit = await browser.page(`${PAGE}?kvk=${SUPPLIER}`);
    assert.match(edit.html, /value="Schoolwijzer Demo B\.V\."/, "the form holds its values");

    const done = await register(browser, {
      kvk: SUPPLIER,
      name: "Schoolwijzer B.V.",
      contactEmail: "avg@schoolwijzer.example",
    });
    assert.equal(done.status, 200, done.html);
    assert.match(done.html, /De gegevens van Schoolwijzer B\.V\. \(KvK 99000001\) zijn gewijzigd/);
    assert.deepEqual(JSON.parse(await gitAt(service, "show", `main:suppliers/${SUPPLIER}.json`)), {
      id: SUPPLIER,
      name: "Schoolwijzer B.V.",
      contactEmail: "avg@schoolwijzer.example",
    });
    assert.match(await gitAt(service, "log", "-1", "--format=%an", "main"), /^Bea Beheer$/m);
    assert.equal(await supplierPage(service, SUPPLIER), 200);
  }));

Deno.test("invalid input shows an error per field and registers nothing", () =>
  withService(async (service) => {
    const browser = await admin(service);
    const before = await headOf(service);

    const cases: Array<{ fields: Record<string, string>; errors: Record<string, RegExp> }> = [
      {
        fields: { kvk: "", name: " ", contactEmail: "" },
        errors: {
          kvk: /Vul het KvK-nummer van de leverancier in/,
          name: /Vul de naam van de leverancier in/,
          contactEmail: /Vul het contactadres van de leverancier in/,
        },
      },
      {
        fields: {
          kvk: "1234567",
          name: "Leerlab\nProef",
          contactEmail: "a@leerlab.example, b@leerlab.example",
        },
        errors: {
          kvk: /Het KvK-nummer &quot;1234567&quot; is geen nummer van 8 cijfers/,
          name: /De naam bevat een regeleinde of een stuurteken/,
          contactEmail: /is geen geldig e-mailadres\. Vul precies één adres in/,
        },
      },
      {
        fields: {
          kvk: NEW_SUPPLIER.kvk,
          name: "Leerlab \u202Eproef",
          contactEmail: NEW_SUPPLIER.contactEmail,
        },
        errors: {
          name:
            /De naam bevat op teken 9 het onzichtbare teken U\+202E, dat de leesrichting omdraait/,
        },
      },
      {
        fields: { kvk: NEW_SUPPLIER.kvk, name: "x".repeat(301), contactEmail: "privacy@x.nl" },
        errors: { name: /De naam is 301 tekens lang; hoogstens 300 mag/ },
      },
    ];
    for (const { fields, errors } of cases) {
      const page = await register(browser, fields);
      assert.equal(page.status, 422, JSON.stringify(fields));
      assert.match(page.html, /Er is niets geregistreerd\./);
      for (const field of ["kvk", "name", "contactEmail"]) {
        const message = new RegExp(
          `id="${field}-error"[^>]*>\\s*([^<]*)<`,
        ).exec(page.html)?.[1];
        if (errors[field]) {
          assert.match(message ?? "", errors[field]!, `${field} of ${JSON.stringify(fields)}`);
          assert.match(page.html, new RegExp(`id="${field}"[^>]*aria-invalid="true"`));
        } else {
          assert.equal(message, undefined, `${field} has no error`);
        }
      }
    }
    // The typed values stay in the form.
    const kept = await register(browser, { kvk: "12", name: "Leerlab", contactEmail: "x" });
    assert.match(kept.html, /value="Leerlab"/);

    assert.equal(await headOf(service), before, "nothing was registered");
    assert.notEqual(await supplierPage(service, NEW_SUPPLIER.kvk), 200);
  }));

Deno.test("only an admin may see the supplier registry and register suppliers", () =>
  withService(async (service) => {
    const anonymous = new Browser(service.url);
    assert.equal((await anonymous.page(PAGE)).status, 401);

    const { person, supplier, auditor } = await nonAdmins(service);

    const before = await headOf(service);
    for (const browser of [person, supplier, auditor]) {
      assert.equal((await browser.page(PAGE)).status, 403);
      const done = await register(browser, {
        kvk: NEW_SUPPLIER.kvk,
        name: NEW_SUPPLIER.name,
        contactEmail: NEW_SUPPLIER.contactEmail,
      });
      assert.equal(done.status, 403);
    }
    assert.equal(await headOf(service), before);

    // Without the page's CSRF token the admin's form is refused too.
    const browser = await admin(service);
    browser.csrf = "onjuist";
    const forged = await register(browser, {
      kvk: NEW_SUPPLIER.kvk,
      name: NEW_SUPPLIER.name,
      contactEmail: NEW_SUPPLIER.contactEmail,
    });
    assert.equal(forged.status, 403);
    assert.equal(await headOf(service), before);
  }));

Deno.test("a board's KvK number is not registered as a supplier", () =>
  withService(async (service) => {
    const browser = await admin(service);
    const before = await headOf(service);
    const refused = await register(browser, {
      kvk: "01087061",
      name: "Stichting Van Hall Larenstein",
      contactEmail: "privacy@vhl.example",
    });
    assert.equal(refused.status, 422);
    assert.match(refused.html, /is dat van schoolbestuur Stichting Van Hall Larenstein \(41344\)/);
    assert.match(refused.html, /id="kvk"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="kvk"/);
    assert.equal(await headOf(service), before, "nothing was registered");
  }));
