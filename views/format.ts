const TIME_ZONE = "Europe/Amsterdam";

const dateFormat = new Intl.DateTimeFormat("nl-NL", {
  day: "numeric",
  month: "long",
  year: "numeric",
  timeZone: TIME_ZONE,
});

const calendarDateFormat = new Intl.DateTimeFormat("nl-NL", {
  day: "numeric",
  month: "long",
  year: "numeric",
  timeZone: "UTC",
});

const dateTimeFormat = new Intl.DateTimeFormat("nl-NL", {
  day: "numeric",
  month: "long",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  timeZone: TIME_ZONE,
});

const CALENDAR_DATE = /^\d{4}-\d{2}-\d{2}$/;

function parse(iso: string): Date {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    throw new RangeError(`Cannot format date "${iso}": it is not an ISO 8601 date`);
  }
  return date;
}

/**
 * Formats an ISO date or timestamp as a Dutch date, for example
 * "3 december 2026", in the Europe/Amsterdam time zone. A bare calendar date
 * ("2026-12-03") is shown as that same day.
 */
export function formatDate(iso: string): string {
  const format = CALENDAR_DATE.test(iso) ? calendarDateFormat : dateFormat;
  return format.format(parse(iso));
}

/**
 * Formats an ISO timestamp as a Dutch date and time in Europe/Amsterdam, for
 * example "3 december 2026 om 14:05".
 */
export function formatDateTime(iso: string): string {
  return dateTimeFormat.format(parse(iso));
}

const countryNames = new Intl.DisplayNames(["nl"], { type: "region" });

/** The Dutch name of an ISO 3166-1 alpha-2 country with its code, e.g. "Ierland (IE)". */
export function formatCountry(code: string): string {
  const name = countryNames.of(code);
  return name === undefined || name === code ? code : `${name} (${code})`;
}
