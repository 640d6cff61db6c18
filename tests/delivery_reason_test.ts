import assert from "node:assert/strict";
import { explainDeliveryReason } from "../views/delivery_reason.ts";
import { OutboxPage } from "../views/outbox_page.ts";
import { renderPage } from "../views/render.ts";

Deno.test("a delivery failure is explained in Dutch by kind, beside its technical reason", () => {
  const cases: Array<[string, "pending" | "failed", RegExp]> = [
    ['"x@y, z@w" is not one valid e-mail address', "failed", /^Adres ongeldig: .* niet opnieuw/],
    [
      "Resend answered 422 validation_error: Invalid `to` field",
      "failed",
      /^Blijvend probleem: de maildienst weigert dit bericht/,
    ],
    ["Resend answered 401 missing_api_key: Missing API key", "failed", /RESEND_API_KEY/],
    ["Resend answered 429 rate_limit_exceeded: Too many", "pending", /^Tijdelijk .* opnieuw\.$/],
    ["Resend answered 503 application_error: down", "pending", /^Tijdelijk probleem bij/],
    ["Resend did not answer within 15000 ms", "pending", /antwoordde niet op tijd/],
    ["Resend request failed: TypeError: fetch failed", "pending", /niet bereikbaar/],
    [
      "Gave up after 8 attempts; the last: Resend answered 500 internal_server_error: boom",
      "failed",
      /^Opgegeven na 8 pogingen: .* De laatste keer: tijdelijk probleem bij de maildienst\.$/,
    ],
    ["Something nobody expected", "failed", /^Onbekend probleem/],
  ];
  for (const [reason, status, expected] of cases) {
    assert.match(explainDeliveryReason(reason, status), expected, reason);
  }

  const page = renderPage(OutboxPage({
    audience: "admin",
    mails: [{
      id: "m1",
      to: "weigert@bestuur.example",
      subject: "Onderwerp",
      text: "Tekst",
      createdAt: "2026-12-03T08:00:00Z",
      delivery: {
        status: "failed",
        attempts: 1,
        reason: "Resend answered 422 validation_error: x",
      },
    }],
    user: { name: "Ada", organisation: "Beheer", roles: ["beheer"] },
    csrf: "csrf-token",
  }));
  assert.match(page, /Reden: Blijvend probleem: de maildienst weigert dit bericht/);
  assert.match(page, /\(technisch: Resend answered 422 validation_error: x\)/);
  assert.match(page, /<dt>Technische reden<\/dt>\s*<dd>Resend answered 422/);
});
