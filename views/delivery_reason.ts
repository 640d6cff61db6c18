/** Where a mail stands, as far as the explanation of its reason depends on it. */
export type DeliveryStatus = "local" | "pending" | "sent" | "failed";

const INVALID_ADDRESS = /is not one valid e-mail address/;
const GAVE_UP = /^Gave up after (\d+) attempts; the last: ([\s\S]*)$/;
const PROVIDER_STATUS = /^Resend answered (\d{3}) /;
const NO_ANSWER = /^Resend did not answer within /;
const UNREACHABLE = /^(Resend request failed|Sending failed): /;

/**
 * A Dutch explanation of why a mail was not delivered, for administrators:
 * the kind of problem (invalid address, a temporary or a lasting problem at
 * the mail service, its key or sender) and what happens next. It reads the
 * technical reasons the outbox and the Resend sender write; a reason it does
 * not know gets a general sentence, and the page shows the technical reason
 * beside it in every case.
 */
export function explainDeliveryReason(reason: string, status: DeliveryStatus): string {
  const gaveUp = GAVE_UP.exec(reason);
  if (gaveUp) {
    return `Opgegeven na ${gaveUp[1]} pogingen: het probleem was telkens tijdelijk, maar ging ` +
      `niet over. De laatste keer: ${lowerFirst(kindOf(gaveUp[2]!))}`;
  }
  const next = status === "failed"
    ? " Akkoord verstuurt dit bericht niet opnieuw."
    : " Akkoord probeert het later opnieuw.";
  return kindOf(reason) + next;
}

function kindOf(reason: string): string {
  if (INVALID_ADDRESS.test(reason)) {
    return "Adres ongeldig: dit is niet één geldig e-mailadres. Verbeter het adres van de " +
      "organisatie.";
  }
  const provider = PROVIDER_STATUS.exec(reason);
  if (provider) return providerKind(Number(provider[1]));
  if (NO_ANSWER.test(reason)) {
    return "Tijdelijk probleem: de maildienst antwoordde niet op tijd.";
  }
  if (UNREACHABLE.test(reason)) {
    return "Tijdelijk probleem: de maildienst was niet bereikbaar.";
  }
  return "Onbekend probleem: zie de technische reden.";
}

function providerKind(status: number): string {
  if (status === 401 || status === 403) {
    return "Blijvend probleem: de maildienst weigert de API-sleutel of de afzender. Controleer " +
      "RESEND_API_KEY en AKKOORD_MAIL_FROM.";
  }
  if (status === 429) {
    return "Tijdelijk probleem: de maildienst krijgt te veel berichten tegelijk.";
  }
  if (status >= 500 || status === 408 || status === 409) {
    return "Tijdelijk probleem bij de maildienst.";
  }
  return "Blijvend probleem: de maildienst weigert dit bericht, bijvoorbeeld om het adres of de " +
    "afzender.";
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
