import type { VNode } from "preact";
import { formatDateTime } from "./format.ts";
import { html } from "./html.ts";
import { Layout } from "./layout.ts";

/** One mail in the local development outbox. */
export interface OutboxMail {
  id: string;
  to: string;
  subject: string;
  text: string;
  createdAt: string;
}

/** Development page: the mails the service would have sent, newest first as given. */
export function OutboxPage(props: { mails: OutboxMail[] }): VNode {
  return html`
    <${Layout} title="Uitgaande e-mail">
      <p class="akkoord-pre-heading">Alleen in ontwikkelmodus</p>
      <h1 class="utrecht-heading-1">Uitgaande e-mail</h1>
      <p class="utrecht-paragraph">
        In ontwikkelmodus verstuurt Akkoord geen e-mail, maar bewaart het de berichten hier.
      </p>
      ${props.mails.length === 0
        ? html`<p class="utrecht-paragraph">Er staan geen berichten in de uitgaande e-mail.</p>`
        : html`<ol class="akkoord-mail-list">${
          props.mails.map((mail) => html`<${Mail} mail=${mail} />`)
        }</ol>`}
    <//>
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
        </dl>
        <pre class="akkoord-mail__text">${mail.text}</pre>
      </article>
    </li>
  `;
}
