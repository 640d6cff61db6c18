import { Fragment, type VNode } from "preact";
import { explainDeliveryReason } from "./delivery_reason.ts";
import { formatDateTime } from "./format.ts";
import { html } from "./html.ts";
import { Layout, type PageUser } from "./layout.ts";

/** Where one mail stands, as the outbox records it. */
export interface OutboxMailDelivery {
  status: "local" | "pending" | "sent" | "failed";
  attempts: number;
  nextAttemptAt?: string;
  providerId?: string;
  sentAt?: string;
  reason?: string;
}

/** One mail in the outbox. */
export interface OutboxMail {
  id: string;
  to: string;
  subject: string;
  text: string;
  createdAt: string;
  delivery?: OutboxMailDelivery;
}

/** Props of {@link OutboxPage}. */
export interface OutboxPageProps {
  mails: OutboxMail[];
  /** `admin`: the administrators' page of sent and failed mail; else the development outbox. */
  audience?: "admin" | "development";
  user?: PageUser;
  csrf?: string;
}

const STATUS_LABELS: Record<OutboxMailDelivery["status"], string> = {
  local: "Alleen bewaard",
  pending: "Wacht op verzending",
  sent: "Verstuurd",
  failed: "Mislukt",
};

/** The mails of the outbox, newest first as given; failed mails first on the admin page. */
export function OutboxPage(props: OutboxPageProps): VNode {
  const admin = props.audience === "admin";
  const failed = props.mails.filter((mail) => mail.delivery?.status === "failed");
  return html`
    <${Layout} title="Uitgaande e-mail" user=${props.user} csrf=${props.csrf}>
      <p class="akkoord-pre-heading">${admin ? "Beheer" : "Alleen in ontwikkelmodus"}</p>
      <h1 class="utrecht-heading-1">Uitgaande e-mail</h1>
      <p class="utrecht-paragraph">
        ${admin
          ? "De berichten die Akkoord verstuurt, met hoe ver ze zijn."
          : "In ontwikkelmodus verstuurt Akkoord geen e-mail, maar bewaart het de berichten hier."}
      </p>
      ${admin ? html`<${FailedMails} mails=${failed} />` : null}
      ${admin ? html`<h2 class="utrecht-heading-2">Alle berichten</h2>` : null}
      ${props.mails.length === 0
        ? html`<p class="utrecht-paragraph">Er staan geen berichten in de uitgaande e-mail.</p>`
        : html`<ol class="akkoord-mail-list">${
          props.mails.map((mail) => html`<${Mail} mail=${mail} />`)
        }</ol>`}
    <//>
  `;
}

function FailedMails(props: { mails: OutboxMail[] }): VNode {
  if (props.mails.length === 0) {
    return html`<p class="utrecht-paragraph" id="mislukt">Geen mislukte berichten.</p>`;
  }
  return html`
    <section aria-labelledby="mislukt">
      <h2 class="utrecht-heading-2" id="mislukt">Mislukte berichten (${props.mails.length})</h2>
      <ul class="utrecht-unordered-list">
        ${props.mails.map((mail) =>
          html`<li class="utrecht-unordered-list__item">
            <strong>${mail.to}</strong>: ${mail.subject}.${" "}
            ${
            mail.delivery?.reason
              ? html`Reden: ${explainDeliveryReason(mail.delivery.reason, "failed")}${" "}
                <span class="akkoord-muted">(technisch: ${mail.delivery.reason})</span>`
              : "Reden onbekend."
          }
          </li>`
        )}
      </ul>
    </section>
  `;
}

function Mail(props: { mail: OutboxMail }): VNode {
  const mail = props.mail;
  const id = `mail-${mail.id}`;
  return html`
    <li class="akkoord-mail">
      <article aria-labelledby=${id}>
        <h2 class="utrecht-heading-3" id=${id}>${mail.subject}</h2>
        <dl class="akkoord-facts">
          <div class="akkoord-facts__item">
            <dt>Aan</dt>
            <dd>${mail.to}</dd>
          </div>
          <div class="akkoord-facts__item">
            <dt>Aangemaakt</dt>
            <dd>${formatDateTime(mail.createdAt)}</dd>
          </div>
          ${mail.delivery ? html`<${DeliveryFacts} delivery=${mail.delivery} />` : null}
        </dl>
        <pre class="akkoord-mail__text">${mail.text}</pre>
      </article>
    </li>
  `;
}

function DeliveryFacts(props: { delivery: OutboxMailDelivery }): VNode {
  const { delivery } = props;
  const facts: Array<[string, string]> = [
    ["Status", STATUS_LABELS[delivery.status]],
    ["Pogingen", String(delivery.attempts)],
    ...(delivery.sentAt
      ? [["Verstuurd", formatDateTime(delivery.sentAt)] as [string, string]]
      : []),
    ...(delivery.providerId ? [["Kenmerk", delivery.providerId] as [string, string]] : []),
    ...(delivery.status === "pending" && delivery.nextAttemptAt
      ? [["Volgende poging", formatDateTime(delivery.nextAttemptAt)] as [string, string]]
      : []),
    ...(delivery.reason && delivery.status !== "sent"
      ? [
        ["Reden", explainDeliveryReason(delivery.reason, delivery.status)] as [string, string],
        ["Technische reden", delivery.reason] as [string, string],
      ]
      : []),
  ];
  return html`<${Fragment}>${
    facts.map(([term, value]) =>
      html`
        <div class="akkoord-facts__item">
          <dt>${term}</dt>
          <dd>${value}</dd>
        </div>
      `
    )
  }<//>`;
}
