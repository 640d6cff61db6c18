import type { Privacybijsluiter } from "../../domain/privacybijsluiter.ts";
import { formatCountry, formatDate } from "../format.ts";
import { DATA_SUBJECT_LABELS, yesNo } from "../labels.ts";
import type { PageWriter } from "./page_writer.ts";

type Contact = Privacybijsluiter["supplier"]["privacyContact"];

/** One product's privacybijsluiter as tables: facts, purposes, data and sub-processors. */
export function writeAnnex(writer: PageWriter, annex: Privacybijsluiter): void {
  writer.heading(`${annex.product.name} (versie ${annex.product.version})`, 2);
  writer.paragraph([{ text: annex.product.description }]);
  writer.table({
    widths: [1, 2.4],
    rows: [
      ["Leverancier", `${annex.supplier.name} (KvK ${annex.supplier.kvk})`],
      ["Privacycontact", contactText(annex.supplier.privacyContact)],
      ["Contact bij datalekken", contactText(annex.supplier.breachContact)],
      ["Opslaglocatie", annex.storageLocation],
      ["Beveiliging", annex.security.annexReference],
      ["Certificeringen", annex.security.certifications.join(", ") || "Geen opgegeven"],
      ["Versie van deze bijsluiter", `${annex.documentVersion}, ${formatDate(annex.documentDate)}`],
      ["Doelen van de verwerking", annex.purposes.map((purpose) => `• ${purpose}`).join("\n")],
      ["Betrokkenen", annex.dataSubjects.map((subject) => DATA_SUBJECT_LABELS[subject]).join(", ")],
    ],
  });
  writer.heading(`Persoonsgegevens in ${annex.product.name}`, 3);
  writer.table({
    widths: [1.6, 1.3, 1.6, 1.8],
    header: [
      "Categorie",
      "Bijzonder persoonsgegeven",
      "Nationaal identificatienummer",
      "Bewaartermijn",
    ],
    rows: annex.dataCategories.map((category) => [
      [
        { text: category.name, style: "bold" },
        ...(category.description ? [{ text: `\n${category.description}` }] : []),
      ],
      yesNo(category.special),
      yesNo(category.nationalIdentifier),
      category.retention,
    ]),
  });
  writer.heading(`Subverwerkers van ${annex.product.name}`, 3);
  if (annex.subProcessors.length === 0) {
    writer.paragraph([{ text: `${annex.product.name} gebruikt geen subverwerkers.` }]);
    return;
  }
  writer.table({
    widths: [1.4, 2, 1.2, 0.8, 1.6],
    header: ["Subverwerker", "Dienst", "Land", "Binnen de EER", "Waarborg bij doorgifte"],
    rows: annex.subProcessors.map((sub) => [
      sub.name,
      sub.service,
      formatCountry(sub.country),
      yesNo(sub.insideEea),
      sub.transferSafeguard ?? "—",
    ]),
  });
}

function contactText(contact: Contact): string {
  return `${contact.name}, ${contact.email}${contact.phone ? `, ${contact.phone}` : ""}`;
}
