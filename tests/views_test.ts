import assert from "node:assert/strict";
import type { VNode } from "preact";
import type { Privacybijsluiter } from "../domain/privacybijsluiter.ts";
import type { AgreementState, AgreementStatus, Board, Supplier } from "../domain/state.ts";
import { assetRoutes } from "../routes/assets.ts";
import { AgreementPage, type AgreementPageProps } from "../views/agreement_page.ts";
import { BoardOverviewPage, type BoardOverviewPageProps } from "../views/board_overview_page.ts";
import { ERROR_EXPLANATIONS, ErrorPage, type ErrorStatus } from "../views/error_page.ts";
import { formatDate, formatDateTime } from "../views/format.ts";
import { HomePage } from "../views/home_page.ts";
import { Layout, type PageUser } from "../views/layout.ts";
import { renderMarkdown } from "../views/markdown.ts";
import { OutboxPage } from "../views/outbox_page.ts";
import { renderPage } from "../views/render.ts";
import { SignPage } from "../views/sign_page.ts";
import { SupplierOverviewPage } from "../views/supplier_overview_page.ts";

const OID = "3f2a9c1d5e7b8a9f0c1d2e3f4a5b6c7d8e9f0a1b";
const SHA = "9b74c9897bac770ffc029102a200c5de0b5e2d6f1e4a8f3c2b7d6e5f4a3b2c1d";
const CSRF = "csrf-token-Zx8";

const user: PageUser = { name: "Anna de Vries", organisation: "41039", roles: ["beoordelen"] };

const board: Board = {
  id: "41039",
  kvk: "41039128",
  name: "Stichting Openbaar Onderwijs Aan Zee",
  sector: "bo",
  contactEmail: "bestuur@aanzee.example",
};

const supplier: Supplier = {
  id: "99000001",
  name: "Schoolwijzer B.V.",
  contactEmail: "privacy@schoolwijzer.example",
};

function status(state: AgreementState, extra: Partial<AgreementStatus> = {}): AgreementStatus {
  const actor = {
    subject: "s-1",
    name: "Piet Jansen",
    organisation: "99000001",
    assurance: "urn:etoegang:core:assurance-class:loa3",
    role: "leverancier" as const,
  };
  return {
    board: board.id,
    supplier: supplier.id,
    state,
    current: {
      version: 3,
      oid: OID,
      contentSha256: SHA,
      offeredAt: "2026-11-20T09:15:00Z",
      products: ["schoolwijzer-lvs"],
      title: "Verwerkersovereenkomst Schoolwijzer",
    },
    history: [
      {
        version: 3,
        oid: OID,
        contentSha256: SHA,
        action: "offered",
        at: "2026-11-20T09:15:00Z",
        actor,
      },
      {
        version: 3,
        oid: OID,
        contentSha256: SHA,
        action: "rejected",
        at: "2026-11-21T10:00:00Z",
        actor: { ...actor, name: "Anna de Vries", role: "beoordelen" },
        reason: "Bewaartermijn ontbreekt",
      },
    ],
    ...extra,
  };
}

const annex: Privacybijsluiter = {
  product: {
    id: "schoolwijzer-lvs",
    name: "Schoolwijzer LVS",
    version: "4.2",
    description: "Leerlingvolgsysteem.",
  },
  supplier: {
    name: "Schoolwijzer B.V.",
    kvk: "99000001",
    privacyContact: { name: "Privacyteam", email: "privacy@schoolwijzer.example" },
    breachContact: {
      name: "Meldpunt",
      email: "datalek@schoolwijzer.example",
      phone: "010-1234567",
    },
  },
  purposes: ["Voortgang van leerlingen volgen"],
  dataSubjects: ["leerlingen", "ouders"],
  dataCategories: [
    { name: "Zorggegevens", special: true, nationalIdentifier: false, retention: "2 jaar" },
    {
      name: "Persoonsgebonden nummer",
      special: false,
      nationalIdentifier: true,
      retention: "5 jaar",
    },
  ],
  subProcessors: [
    { name: "Cloud NL", service: "Hosting", country: "NL", insideEea: true },
    {
      name: "Mail US",
      service: "E-mail",
      country: "US",
      insideEea: false,
      transferSafeguard: "EU-VS-gegevensprivacykader",
    },
  ],
  storageLocation: "Amsterdam",
  security: { annexReference: "Beveiligingsbijlage 2026", certifications: ["ISO 27001"] },
  documentVersion: "2.1",
  documentDate: "2026-10-01",
};

function agreementProps(overrides: Partial<AgreementPageProps> = {}): AgreementPageProps {
  return {
    board,
    supplier,
    status: status("offered"),
    agreementHtml: renderMarkdown("# Overeenkomst\n\nTekst van **artikel 1**."),
    products: [annex],
    actions: { approve: true, reject: true, sign: false },
    csrf: CSRF,
    user,
    ...overrides,
  };
}

function overviewProps(overrides: Partial<BoardOverviewPageProps> = {}): BoardOverviewPageProps {
  return {
    board,
    rows: [{ supplier, status: status("offered"), waitingFor: "beoordelaar" }],
    canAcceptTerms: true,
    termsVersion: "2026-1",
    csrf: CSRF,
    user,
    ...overrides,
  };
}

interface Form {
  action: string;
  method: string;
  fields: Map<string, string>;
  body: string;
}

function forms(page: string): Form[] {
  return [...page.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)].map((match) => {
    const attrs = match[1] ?? "";
    const body = match[2] ?? "";
    const fields = new Map<string, string>();
    for (const input of body.matchAll(/<input\b[^>]*>/g)) {
      const name = /\bname="([^"]*)"/.exec(input[0])?.[1];
      const value = /\bvalue="([^"]*)"/.exec(input[0])?.[1] ?? "";
      if (name !== undefined) fields.set(name, value);
    }
    return {
      action: /\baction="([^"]*)"/.exec(attrs)?.[1] ?? "",
      method: /\bmethod="([^"]*)"/.exec(attrs)?.[1] ?? "",
      fields,
      body,
    };
  });
}

function formTo(page: string, action: string): Form {
  const form = forms(page).find((f) => f.action === action);
  assert.ok(form, `no form posts to ${action}`);
  return form;
}

function render(vnode: VNode): string {
  return renderPage(vnode);
}

Deno.test("markdown escapes raw HTML and drops dangerous links", () => {
  const out = renderMarkdown([
    "<script>alert(1)</script>",
    '<img src="x" onerror="alert(1)">',
    "[a](javascript:alert(1)) [b](JAVASCRIPT:alert(1)) [c](data:text/html,<script>alert(1)</script>)",
    "[d](jav&#x61;script:alert(1)) [e](vbscript:msgbox) [f](file:///etc/passwd) [g](ftp://x.example/)",
    "![h](javascript:alert(1)) ![i](data:image/png;base64,AAAA)",
    "[ref]: javascript:alert(2)",
    "",
    "[j][ref]",
  ].join("\n\n"));

  assert.doesNotMatch(out, /<script/i);
  assert.doesNotMatch(out, /<[a-z][^>]*\son[a-z]+\s*=/i, "an on* attribute was rendered");
  assert.doesNotMatch(out, /<img\b/i, "an image with a forbidden source was rendered");
  for (const [, url] of out.matchAll(/\b(?:href|src)="([^"]*)"/gi)) {
    assert.doesNotMatch(url ?? "", /^\s*(javascript|vbscript|data|file|ftp):/i, url);
  }
  assert.match(out, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/, "raw HTML is shown as text");
});

Deno.test("markdown keeps safe links with rel and shifts headings below the page's own", () => {
  const out = renderMarkdown(
    "# Titel\n\n### Diep\n\n[web](https://example.nl) [mail](mailto:a@example.nl) [anker](#art-2) [pad](/boards)",
  );
  assert.match(out, /<h3>Titel<\/h3>/);
  assert.match(out, /<h4>Diep<\/h4>/, "a skipped level is closed up");
  for (const href of ["https://example.nl", "mailto:a@example.nl", "#art-2", "/boards"]) {
    assert.ok(out.includes(`<a href="${href}" rel="noopener noreferrer">`), href);
  }
  assert.match(renderMarkdown("## Kop", { headingBase: 2 }), /<h2>Kop<\/h2>/);
});

Deno.test("markdown tables head their columns and leave no empty header cell", () => {
  const out = renderMarkdown("| | Bestuur | Leverancier |\n|---|---|---|\n| Naam | A | B |");
  assert.match(out, /<th scope="col">Bestuur<\/th>/);
  assert.doesNotMatch(out, /<th[^>]*>\s*<\/th>/);
});

Deno.test("layout is Dutch, has a skip link to main, landmarks, stylesheets and logout", () => {
  const page = render(Layout({ title: "Proef", user, csrf: CSRF, children: "inhoud" }));
  assert.ok(page.startsWith('<!doctype html><html lang="nl"'));
  assert.match(page, /<html[^>]*class="[^"]*voorbeeld-theme/);
  assert.match(page, /<title>Proef — Akkoord<\/title>/);
  const skip = /<a class="utrecht-skip-link[^"]*" href="#([^"]+)"/.exec(page);
  assert.ok(skip, "no skip link");
  assert.match(page, new RegExp(`<main[^>]*id="${skip[1]}"`));
  for (const tag of ["header", "nav", "main", "footer"]) {
    assert.match(page, new RegExp(`<${tag}\\b`));
  }
  for (const sheet of ["utrecht.css", "tokens.css", "app.css"]) {
    assert.ok(page.includes(`href="/assets/${sheet}"`), sheet);
  }
  const logout = formTo(page, "/logout");
  assert.equal(logout.method, "post");
  assert.equal(logout.fields.get("_csrf"), CSRF);
  assert.match(page, /Anna de Vries/);
  assert.match(page, /DUO, CC BY 4\.0/);
});

Deno.test("layout without a user has no navigation and no logout", () => {
  const page = render(HomePage());
  assert.doesNotMatch(page, /<nav\b/);
  assert.equal(forms(page).length, 0);
  assert.match(page, /<a [^>]*href="\/login"[^>]*>\s*Inloggen met eHerkenning/);
});

Deno.test("board overview offers the terms form only to someone who may accept", () => {
  const page = render(BoardOverviewPage(overviewProps()));
  const terms = formTo(page, "/boards/41039/terms");
  assert.equal(terms.fields.get("_csrf"), CSRF);
  assert.equal(terms.fields.get("termsVersion"), "2026-1");
  assert.match(terms.body, /<input[^>]*type="checkbox"[^>]*id="accept"[^>]*required/);
  assert.match(
    terms.body,
    /<label[^>]*for="accept"[^>]*>\s*Ik aanvaard de gebruiksvoorwaarden namens Stichting Openbaar Onderwijs Aan Zee/,
  );

  const noMandate = render(BoardOverviewPage(overviewProps({ canAcceptTerms: false })));
  assert.equal(forms(noMandate).filter((f) => f.action.endsWith("/terms")).length, 0);
  assert.match(noMandate, /moet de gebruiksvoorwaarden aanvaarden/);

  const accepted = render(BoardOverviewPage(overviewProps({
    board: {
      ...board,
      termsAccepted: {
        version: "2026-1",
        at: "2026-11-01T10:00:00Z",
        actor: status("offered").history[0]!.actor,
      },
    },
  })));
  assert.doesNotMatch(accepted, /Gebruiksvoorwaarden nog niet aanvaard/);
  assert.match(accepted, /aanvaard op 1 november 2026 door\s+Piet Jansen/);
});

Deno.test("board overview lists each supplier with Dutch status, waiting party and version in force", () => {
  const other: Supplier = {
    id: "99000002",
    name: "Rekenrijk",
    contactEmail: "r@rekenrijk.example",
  };
  const third: Supplier = { id: "99000003", name: "Taalmaat", contactEmail: "t@taalmaat.example" };
  const signedThenNew = status("offered", {
    supplier: other.id,
    inForce: { version: 2, oid: OID, contentSha256: SHA, signedAt: "2026-12-03T11:00:00Z" },
  });
  const page = render(BoardOverviewPage(overviewProps({
    rows: [
      { supplier, status: status("rejected"), waitingFor: "leverancier" },
      { supplier: other, status: signedThenNew, waitingFor: "beoordelaar" },
      {
        supplier: third,
        status: status("approved", { supplier: third.id }),
        waitingFor: "ondertekenaar",
      },
    ],
  })));
  assert.match(page, /<caption[^>]*>Verwerkersovereenkomsten per leverancier<\/caption>/);
  assert.match(page, /<th scope="col"[^>]*>Leverancier<\/th>/);
  for (
    const text of [
      "afgewezen",
      "aangeboden",
      "goedgekeurd",
      "Wacht op leverancier",
      "Wacht op beoordeling",
      "Wacht op ondertekening",
      "Versie 2 ondertekend op 3 december 2026",
      "20 november 2026",
    ]
  ) {
    assert.ok(page.includes(text), text);
  }
  assert.match(page, /href="\/boards\/41039\/agreements\/99000002"/);
  const summary = /<ul class="akkoord-summary">([\s\S]*?)<\/ul>/.exec(page)?.[1] ?? "";
  assert.match(summary, /<strong>1<\/strong> ondertekend/);
  assert.match(
    summary,
    /<strong>2<\/strong> wachtend/,
    "rejected waits for the supplier, not the board",
  );
  assert.match(summary, /<strong>1<\/strong> afgewezen/);
});

Deno.test("board overview without agreements says so", () => {
  const page = render(BoardOverviewPage(overviewProps({ rows: [] })));
  assert.match(page, /nog geen verwerkersovereenkomsten/);
  assert.doesNotMatch(page, /<table\b/);
});

Deno.test("agreement page decision forms post the exact version they show", () => {
  const page = render(AgreementPage(agreementProps()));
  for (const action of ["approve", "reject"]) {
    const form = formTo(page, `/boards/41039/agreements/99000001/${action}`);
    assert.equal(form.method, "post");
    assert.equal(form.fields.get("_csrf"), CSRF);
    assert.equal(form.fields.get("version"), "3");
    assert.equal(form.fields.get("oid"), OID);
    assert.equal(form.fields.get("contentSha256"), SHA);
  }
  const reject = formTo(page, "/boards/41039/agreements/99000001/reject");
  assert.match(reject.body, /<label[^>]*for="reason"/);
  assert.match(reject.body, /<textarea[^>]*name="reason"[^>]*required/);
  assert.doesNotMatch(page, /href="\/boards\/41039\/agreements\/99000001\/sign"/);
  assert.ok(page.includes(OID) && page.includes(SHA));
  assert.match(
    page,
    /<article[^>]*class="utrecht-html[^"]*"[^>]*>[\s\S]*<strong>artikel 1<\/strong>/,
  );
});

Deno.test("agreement page shows the reason error tied to its field and keeps the text", () => {
  const page = render(AgreementPage(agreementProps({
    errors: { reason: "Geef aan waarom u deze versie afwijst." },
    values: { reason: "Te <vaag>" },
  })));
  const textarea = /<textarea\b[^>]*>/.exec(page)?.[0] ?? "";
  const describedBy = /aria-describedby="([^"]*)"/.exec(textarea)?.[1]?.split(" ") ?? [];
  const errorId = /<div[^>]*class="[^"]*utrecht-form-field-error-message[^"]*"[^>]*id="([^"]*)"/
    .exec(page)?.[1];
  assert.ok(errorId && describedBy.includes(errorId), "the error is not described by the field");
  assert.match(textarea, /aria-invalid="true"/);
  assert.match(page, />Te &lt;vaag><\/textarea>/);
  assert.match(page, /role="alert"[\s\S]*href="#reason"/);
});

Deno.test("agreement page offers signing as a link to the confirmation page, and nothing without rights", () => {
  const signable = render(AgreementPage(agreementProps({
    status: status("approved"),
    actions: { approve: false, reject: false, sign: true },
  })));
  assert.match(
    signable,
    /<a[^>]*href="\/boards\/41039\/agreements\/99000001\/sign"[^>]*>Ondertekenen<\/a>/,
  );
  assert.equal(forms(signable).filter((f) => f.action.includes("/agreements/")).length, 0);

  const readOnly = render(
    AgreementPage(agreementProps({ actions: { approve: false, reject: false, sign: false } })),
  );
  assert.equal(forms(readOnly).filter((f) => f.action.includes("/agreements/")).length, 0);
  assert.doesNotMatch(readOnly, /Uw beslissing/);
});

Deno.test("agreement page shows the privacybijsluiter and the history in Dutch", () => {
  const page = render(AgreementPage(agreementProps()));
  const categories =
    /<caption[^>]*>\s*Persoonsgegevens in Schoolwijzer LVS\s*<\/caption>([\s\S]*?)<\/table>/.exec(
      page,
    )?.[1] ?? "";
  assert.match(
    categories,
    /Zorggegevens<\/th>\s*<td[^>]*>Ja<\/td>\s*<td[^>]*>Nee<\/td>\s*<td[^>]*>2 jaar<\/td>/,
  );
  const subs = /Subverwerkers van Schoolwijzer LVS<\/caption>([\s\S]*?)<\/table>/.exec(page)?.[1] ??
    "";
  assert.match(
    subs,
    /Mail US<\/th>[\s\S]*Verenigde Staten \(US\)[\s\S]*Nee[\s\S]*EU-VS-gegevensprivacykader/,
  );
  for (
    const text of [
      "Ouders en verzorgers",
      "1 oktober 2026",
      "ISO 27001",
      "datalek@schoolwijzer.example",
      "010-1234567",
    ]
  ) {
    assert.ok(page.includes(text), text);
  }
  const history = /Alle stappen, nieuwste eerst<\/caption>([\s\S]*?)<\/table>/.exec(page)?.[1] ??
    "";
  assert.match(
    history,
    /21 november 2026 om 11:00[\s\S]*Afgewezen[\s\S]*Anna de Vries \(beoordelaar\)[\s\S]*Bewaartermijn ontbreekt/,
  );
  assert.ok(history.indexOf("Afgewezen") < history.indexOf("Aangeboden"), "newest first");
});

Deno.test("sign page asks an explicit confirmation for one exact version", () => {
  const page = render(SignPage({ board, supplier, status: status("approved"), csrf: CSRF, user }));
  assert.match(
    page,
    /U ondertekent versie 3 van de verwerkersovereenkomst met Schoolwijzer B\.V\. namens\s+Stichting Openbaar Onderwijs Aan Zee/,
  );
  const form = formTo(page, "/boards/41039/agreements/99000001/sign");
  assert.equal(form.method, "post");
  assert.equal(form.fields.get("_csrf"), CSRF);
  assert.equal(form.fields.get("version"), "3");
  assert.equal(form.fields.get("oid"), OID);
  assert.equal(form.fields.get("contentSha256"), SHA);
  assert.match(form.body, /<input[^>]*type="checkbox"[^>]*name="confirm"[^>]*required/);
  assert.match(
    form.body,
    /<label[^>]*for="confirm"[^>]*>\s*Ik heb versie 3 gelezen en onderteken haar namens/,
  );
  assert.match(page, /href="\/boards\/41039\/agreements\/99000001"[^>]*>\s*Annuleren/);
});

Deno.test("supplier overview lists each board with its status", () => {
  const page = render(SupplierOverviewPage({
    supplier,
    rows: [{
      board,
      status: status("signed", {
        inForce: { version: 3, oid: OID, contentSha256: SHA, signedAt: "2026-12-03T11:00:00Z" },
      }),
    }],
    user: { name: "Piet Jansen", organisation: "Schoolwijzer B.V.", roles: ["leverancier"] },
    csrf: "csrf-token",
  }));
  assert.match(page, /<th scope="row"[^>]*>\s*Stichting Openbaar Onderwijs Aan Zee/);
  assert.match(page, /ondertekend/);
  assert.match(page, /Versie 3 ondertekend op 3 december 2026/);
});

Deno.test("error page gives the Dutch title per status and never more than the detail given", () => {
  const expected: Record<ErrorStatus, string> = {
    400: "Dat klopt niet helemaal",
    401: "U bent niet ingelogd",
    403: "Geen toegang",
    404: "Niet gevonden",
    409: "Dit kan nu niet meer",
    413: "Wat u verstuurde is te groot",
    422: "Dat klopt niet helemaal",
    500: "Er ging iets mis",
  };
  for (const [code, title] of Object.entries(expected)) {
    const status = Number(code) as ErrorStatus;
    assert.equal(ERROR_EXPLANATIONS[status].title, title);
    const page = render(ErrorPage({ status }));
    assert.match(page, new RegExp(`<h1[^>]*>${title}</h1>`), code);
    assert.match(page, new RegExp(`<title>${title} — Akkoord</title>`), code);
  }
  assert.match(render(ErrorPage({ status: 401 })), /href="\/login"/);
  assert.match(
    render(ErrorPage({ status: 403, detail: "U handelt niet namens <dit bestuur>." })),
    /namens &lt;dit bestuur>/,
  );
});

Deno.test("outbox page lists each mail with recipient and text", () => {
  const page = render(OutboxPage({
    mails: [{
      id: "m1",
      to: "bestuur@aanzee.example",
      subject: "Overeenkomst wacht op beoordeling",
      text: "Beste bestuur,\n\n<b>Zie</b> Akkoord.",
      createdAt: "2026-12-03T08:00:00Z",
    }],
  }));
  assert.match(page, /<h2[^>]*>Overeenkomst wacht op beoordeling<\/h2>/);
  assert.match(page, /bestuur@aanzee\.example/);
  assert.match(page, /&lt;b>Zie&lt;\/b>/);
  assert.match(render(OutboxPage({ mails: [] })), /geen berichten/);
});

Deno.test("dates are Dutch in Europe/Amsterdam", () => {
  assert.equal(formatDate("2026-12-03"), "3 december 2026");
  assert.equal(formatDate("2026-12-03T23:30:00Z"), "4 december 2026");
  assert.equal(formatDateTime("2026-07-03T13:05:00Z"), "3 juli 2026 om 15:05");
  assert.throws(() => formatDate("gisteren"), /Cannot format date "gisteren"/);
});

Deno.test("assets route serves the stylesheets as CSS with a cache header", async () => {
  const app = assetRoutes();
  const expectations: Record<string, string> = {
    "/assets/utrecht.css": ".utrecht-button",
    "/assets/tokens.css": ".voorbeeld-theme",
    "/assets/app.css": ".akkoord-header",
  };
  for (const [path, needle] of Object.entries(expectations)) {
    const response = await app.request(path);
    assert.equal(response.status, 200, path);
    assert.equal(response.headers.get("content-type"), "text/css; charset=utf-8");
    assert.match(response.headers.get("cache-control") ?? "", /max-age=\d+/);
    assert.ok((await response.text()).includes(needle), path);
  }
  const utrecht = await (await app.request("/assets/utrecht.css")).text();
  assert.ok(utrecht.includes(".utrecht-html"), "the rich-text styles are included");
  const missing = await app.request("/assets/geheim.css");
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
});
