/**
 * What a data processing agreement after the education sector's model is
 * expected to contain, written by Akkoord in its own words: the articles and
 * annexes of the model's structure, and the obligations GDPR art. 28(3)
 * points a–h ask of every such agreement. No sentence is taken from the
 * model itself; titles and summaries are our own short Dutch phrasing.
 *
 * Cues are matched against text that is lower-cased and stripped of
 * diacritics (see {@link normaliseForCues}), as substrings. A title cue that
 * starts with `^` only matches at the start of a heading.
 */

/** One article or annex of the model's structure. */
export interface ModelArticle {
  /** A stable code, used in JSON and tests. */
  id: string;
  /** Akkoord's own Dutch title for it. */
  title: string;
  /** Words that, found in a heading, name this article. */
  titleCues: readonly string[];
  /** Words that, found in an article's text, show that it deals with this subject. */
  bodyCues: readonly string[];
  /** An annex (bijlage) rather than an article. */
  annex?: true;
}

/** The points of GDPR art. 28(3) that list what a processor must commit to. */
export type ObligationPoint = "a" | "b" | "c" | "d" | "e" | "f" | "g" | "h";

/** One obligation of GDPR art. 28(3), with the cues that show an article mentions it. */
export interface Obligation {
  point: ObligationPoint;
  /** Akkoord's own short Dutch summary. */
  summary: string;
  /**
   * Groups of alternative words: one article mentions the obligation when it
   * contains at least one word of every group.
   */
  cues: readonly (readonly string[])[];
}

/** The name under which pages and JSON refer to this structure. */
export const MODEL_NAME = "Structuur van het sectormodel (Privacyconvenant Onderwijs 4.0)";

/** The articles and annexes of the model's structure, in the model's order. */
export const MODEL_ARTICLES: readonly ModelArticle[] = [
  {
    id: "partijen",
    title: "Partijen",
    titleCues: ["^partijen", "^de partijen", "contractpartijen"],
    bodyCues: ["hierna te noemen", "hierna", "gevestigd te", "kvk", "kamer van koophandel"],
  },
  {
    id: "definities",
    title: "Begripsbepalingen",
    titleCues: ["definitie", "begrip"],
    bodyCues: ["betekenis", "begrip", "wordt verstaan", "hebben de betekenis"],
  },
  {
    id: "onderwerp",
    title: "Onderwerp en opdracht",
    titleCues: ["onderwerp", "opdracht", "reikwijdte", "toepassingsgebied"],
    bodyCues: ["opdracht", "de verwerking bestaat", "instructie", "hoofdovereenkomst"],
  },
  {
    id: "rollen",
    title: "Rolverdeling",
    titleCues: ["rollen", "rolverdeling", "verantwoordelijkheden"],
    bodyCues: ["verwerkingsverantwoordelijke", "verwerker", "register"],
  },
  {
    id: "convenant",
    title: "Deelname aan het Privacyconvenant Onderwijs",
    titleCues: ["convenant"],
    bodyCues: ["convenant", "deelnemer", "deelname"],
  },
  {
    id: "doelbinding",
    title: "Doelbinding: geen eigen gebruik, reclame of profilering",
    titleCues: ["doelbinding", "doeleinden", "gebruik van gegevens", "gebruik van de gegevens"],
    bodyCues: ["eigen doeleinden", "reclame", "marketing", "profiel", "doelen"],
  },
  {
    id: "geheimhouding",
    title: "Geheimhouding",
    titleCues: ["geheimhouding", "vertrouwelijk"],
    bodyCues: ["geheim", "vertrouwelijk", "geheimhoudingsplicht"],
  },
  {
    id: "beveiliging",
    title: "Beveiliging, audits en certificering",
    titleCues: ["beveiliging", "informatiebeveiliging", "audit", "certificering", "controle"],
    bodyCues: ["maatregel", "artikel 32", "audit", "certific", "penetratietest", "iso"],
  },
  {
    id: "datalekken",
    title: "Datalekken",
    titleCues: [
      "datalek",
      "inbreuk",
      "beveiligingsincident",
      "beveiligingsinbreuk",
      "inbreuk op de beveiliging",
      "inbreuken op de beveiliging",
      "incident",
    ],
    bodyCues: ["datalek", "inbreuk", "melding", "meldt", "ontdekking", "toezichthouder"],
  },
  {
    id: "bijstand",
    title: "Bijstand aan de onderwijsinstelling",
    titleCues: ["bijstand", "medewerking", "rechten van betrokkenen"],
    bodyCues: ["betrokkene", "inzage", "dpia", "effectbeoordeling", "rectificatie"],
  },
  {
    id: "doorgifte",
    title: "Doorgifte buiten de EER",
    titleCues: ["doorgifte", "buiten de eer", "derde land", "derde landen"],
    bodyCues: ["eer", "doorgifte", "standaardcontractbepalingen", "adequaatheid"],
  },
  {
    id: "subverwerkers",
    title: "Subverwerkers",
    titleCues: ["subverwerker", "sub-verwerker", "onderaannemer", "inschakelen van derden"],
    bodyCues: ["subverwerker", "onderaannemer", "bezwaar", "toestemming"],
  },
  {
    id: "bewaren",
    title: "Bewaren, teruggeven en verwijderen",
    titleCues: ["bewaren", "bewaartermijn", "verwijder", "vernietig", "teruggave"],
    bodyCues: ["bewaartermijn", "verwijder", "vernietig", "teruggeven", "terug", "back-up"],
  },
  {
    id: "aansprakelijkheid",
    title: "Aansprakelijkheid",
    titleCues: ["aansprakelijk", "vrijwaring"],
    bodyCues: ["aansprakelijk", "schade", "vrijwaring"],
  },
  {
    id: "wijzigingen",
    title: "Wijzigingen en voorrang bij strijdigheid",
    titleCues: ["wijziging", "strijdigheid", "rangorde", "voorrang"],
    bodyCues: ["wijziging", "strijd", "gaat voor", "voorrang"],
  },
  {
    id: "duur",
    title: "Looptijd en beëindiging",
    titleCues: ["duur", "looptijd", "beeindiging", "opzegging"],
    bodyCues: ["looptijd", "eindigt", "beeindiging", "opzeg"],
  },
  {
    id: "recht",
    title: "Toepasselijk recht en geschillen",
    titleCues: ["toepasselijk recht", "rechtskeuze", "geschil", "bevoegde rechter"],
    bodyCues: ["nederlands recht", "rechter", "geschil"],
  },
  {
    id: "ondertekening",
    title: "Ondertekening",
    titleCues: ["ondertekening", "handtekening", "^akkoord"],
    bodyCues: ["ondertekent", "tekeningsbevoegd", "handtekening"],
  },
  {
    id: "bijlage-privacybijsluiter",
    title: "Bijlage: privacybijsluiter per product",
    titleCues: ["privacybijsluiter"],
    bodyCues: ["privacybijsluiter"],
    annex: true,
  },
  {
    id: "bijlage-beveiliging",
    title: "Bijlage: beveiligingsmaatregelen",
    titleCues: ["beveiligingsbijlage", "beveiligingsmaatregelen", "beveiliging"],
    bodyCues: ["versleutel", "back-up", "toegang", "logging"],
    annex: true,
  },
  {
    id: "bijlage-afwijkingen",
    title: "Bijlage: afwijkingen van het model, met redenen",
    titleCues: ["afwijking"],
    bodyCues: ["afwijking", "reden"],
    annex: true,
  },
  {
    id: "bijlage-subverwerkers",
    title: "Bijlage: lijst van subverwerkers",
    titleCues: ["subverwerker", "sub-verwerker", "onderaannemer"],
    bodyCues: ["subverwerker", "land", "eer"],
    annex: true,
  },
];

/** What GDPR art. 28(3) points a–h ask a processor to commit to, in our own words. */
export const GDPR_28_3_OBLIGATIONS: readonly Obligation[] = [
  {
    point: "a",
    summary: "Verwerkt alleen op gedocumenteerde instructies van de onderwijsinstelling",
    cues: [["instructie", "aanwijzing", "in opdracht van", "schriftelijke opdracht"], ["verwerk"]],
  },
  {
    point: "b",
    summary: "Wie de gegevens mag verwerken, is tot geheimhouding verplicht",
    cues: [
      ["geheimhouding", "geheim", "vertrouwelijk"],
      ["medewerker", "personeel", "iedereen", "personen", "gezag"],
    ],
  },
  {
    point: "c",
    summary: "Neemt de beveiligingsmaatregelen van artikel 32 AVG",
    cues: [
      ["artikel 32", "passende technische", "beveiligingsmaatregel", "beveilig"],
      ["maatregel"],
    ],
  },
  {
    point: "d",
    summary: "Schakelt subverwerkers alleen in met toestemming en legt hun dezelfde plichten op",
    cues: [
      ["subverwerker", "sub-verwerker", "onderaannemer"],
      ["toestemming", "instemming", "bezwaar", "vooraf"],
    ],
  },
  {
    point: "e",
    summary: "Helpt bij verzoeken van betrokkenen over hun rechten",
    cues: [
      ["betrokkene"],
      ["inzage", "rectificatie", "correctie", "wissing", "verwijdering", "rechten", "verzoek"],
    ],
  },
  {
    point: "f",
    summary: "Helpt bij beveiliging, datalekken, DPIA en voorafgaande raadpleging (AVG 32–36)",
    cues: [[
      "dpia",
      "gegevensbeschermingseffectbeoordeling",
      "effectbeoordeling",
      "voorafgaande raadpleging",
      "artikel 35",
      "artikelen 35",
    ]],
  },
  {
    point: "g",
    summary: "Verwijdert of geeft de gegevens terug aan het einde van de dienstverlening",
    cues: [
      ["verwijder", "vernietig", "teruggeven", "teruggave", "terug", "retour"],
      ["einde", "beeindiging", "afloop", "eindigt"],
    ],
  },
  {
    point: "h",
    summary: "Geeft de informatie om naleving aan te tonen en maakt audits mogelijk",
    cues: [
      ["audit", "inspectie", "controleren", "controle"],
      ["informatie", "aantonen", "naleving", "naleeft", "verklaring", "rapport"],
    ],
  },
];

/**
 * A text as cues are matched against it: Unicode NFD without combining
 * marks (so "beëindiging" reads "beeindiging"), lower case, white space as
 * single spaces.
 */
export function normaliseForCues(text: string): string {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().replace(/\s+/g, " ").trim();
}
