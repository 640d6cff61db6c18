import assert from "node:assert/strict";
import { REASON_MAX_LENGTH } from "../domain/decide_on_agreement.ts";
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
import { startResendStandin } from "./helpers/resend_standin.ts";
import { Browser, sampleOffer, startTestService } from "./helpers/service.ts";

const SUPPLIER_ADDRESS = "privacy@schoolwijzer-demo.example";
const REASON = "Artikel 9 is te ruim <b>vet</b>.\r\n\r\n" +
  "Artikel 12 noemt geen bewaartermijn.\r\nGraag aanpassen.\r\n\r\n\r\nMet groet, de FG";

/** The path and anchor of a link in a mail's text, on the service's public address. */
function linkIn(text: string, publicUrl: string): { path: string; anchor: string } {
  const escaped = publicUrl.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const match = new RegExp(`${escaped}(/[^\\s#]*)#(\\S+)`).exec(text);
  assert.ok(match, `the mail links to the service: ${text}`);
  return { path: match[1]!, anchor: match[2]! };
}

Deno.test("a supplier reads a rejection's reason, paragraphs kept, where its mails link", async () => {
  const standin = await startResendStandin();
  const service = await startTestService({
    RESEND_API_KEY: "re_test_key",
    AKKOORD_MAIL_FROM: "Akkoord <akkoord@mail.example>",
    AKKOORD_RESEND_URL: standin.url,
  });
  try {
    assert.equal((await offer(service, await sampleOffer([BOARD.id, OTHER_BOARD.id]))).status, 201);
    const reviewer = await boardUser(service, BOARD, ["beoordelen"]);
    await acceptTerms(reviewer, BOARD.id);
    const shown = versionFields(await agreementStatus(service, BOARD.id));
    const form = await reviewer.page(agreementPath(BOARD.id));
    assert.match(form.html, new RegExp(`Hoogstens ${REASON_MAX_LENGTH} tekens`));
    const rejected = await reviewer.submit(agreementPath(BOARD.id, "reject"), {
      ...shown,
      reason: REASON,
    });
    assert.equal(rejected.status, 303);
    const signer = await boardUser(service, OTHER_BOARD, ["beoordelen", "ondertekenen"]);
    await acceptTerms(signer, OTHER_BOARD.id);
    const other = versionFields(await agreementStatus(service, OTHER_BOARD.id));
    assert.equal(
      (await signer.submit(agreementPath(OTHER_BOARD.id, "approve"), other)).status,
      303,
    );
    const signed = await signer.submit(agreementPath(OTHER_BOARD.id, "sign"), {
      ...other,
      confirm: "on",
    });
    assert.equal(signed.status, 303);
    await standin.waitFor((call) => JSON.stringify(call.body.to) === `["${SUPPLIER_ADDRESS}"]`, 2);

    const toSupplier = standin.delivered.filter((mail) =>
      JSON.stringify(mail.to) === `["${SUPPLIER_ADDRESS}"]`
    );
    const rejection = toSupplier.find((mail) => /afgewezen$/.test(String(mail.subject)))!;
    const signature = toSupplier.find((mail) => /ondertekend$/.test(String(mail.subject)))!;
    assert.doesNotMatch(String(rejection.subject), /[\r\n]/);
    assert.ok(
      String(rejection.text).includes(
        "Reden:\n\n> Artikel 9 is te ruim <b>vet</b>.\n>\n" +
          "> Artikel 12 noemt geen bewaartermijn.\n> Graag aanpassen.\n>\n> Met groet, de FG\n\n",
      ),
      String(rejection.text),
    );
    assert.doesNotMatch(String(rejection.text), /\r/);
    assert.match(
      String(rejection.html),
      /<blockquote[^>]*><p>Artikel 9 is te ruim &lt;b>vet&lt;\/b>\.<\/p><p>Artikel 12 noemt geen bewaartermijn\.<br\/>Graag aanpassen\.<\/p><p>Met groet, de FG<\/p><\/blockquote>/,
    );

    const publicUrl = service.server.config.publicUrl;
    const rejectionLink = linkIn(String(rejection.text), publicUrl);
    const signatureLink = linkIn(String(signature.text), publicUrl);
    assert.deepEqual(rejectionLink, {
      path: `/suppliers/${SUPPLIER}`,
      anchor: `afwijzing-${BOARD.id}`,
    });
    assert.deepEqual(signatureLink, {
      path: `/suppliers/${SUPPLIER}`,
      anchor: `bestuur-${OTHER_BOARD.id}`,
    });
    assert.ok(String(rejection.html).includes(`href="${publicUrl}/suppliers/${SUPPLIER}#`));

    const supplier = new Browser(service.url);
    await supplier.login({ organisation: SUPPLIER, name: "Sam Leverancier", mandates: [] });
    const overview = await supplier.page(rejectionLink.path);
    assert.equal(overview.status, 200, "the supplier may read the page its mail links to");
    assert.ok(overview.html.includes(`id="${rejectionLink.anchor}"`));
    assert.ok(overview.html.includes(`id="${signatureLink.anchor}"`));
    const article = new RegExp(`<article[^>]*id="${rejectionLink.anchor}"[\\s\\S]*?</article>`)
      .exec(overview.html)?.[0] ?? "";
    assert.match(article, /Stichting Van Hall Larenstein: versie 1 afgewezen op/);
    assert.deepEqual(
      [...article.matchAll(/<p class="[^"]*">([\s\S]*?)<\/p>/g)].map((m) => m[1]),
      [
        "Artikel 9 is te ruim &lt;b>vet&lt;/b>.",
        "Artikel 12 noemt geen bewaartermijn.\nGraag aanpassen.",
        "Met groet, de FG",
      ],
    );
    assert.doesNotMatch(overview.html, /<b>vet<\/b>/);
    assert.match(overview.html, new RegExp(`href="#${rejectionLink.anchor}"[^>]*>Lees de reden`));
    const board = await reviewer.page(`/boards/${BOARD.id}/agreements/${SUPPLIER}`);
    assert.equal(board.status, 200);
    assert.equal((await supplier.page(`/boards/${BOARD.id}/agreements/${SUPPLIER}`)).status, 403);
  } finally {
    await service.close();
    await standin.close();
  }
});
