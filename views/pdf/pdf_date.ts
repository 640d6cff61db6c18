const TIME_ZONE = "Europe/Amsterdam";

const amsterdam = new Intl.DateTimeFormat("nl-NL", {
  day: "numeric",
  month: "long",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
  timeZone: TIME_ZONE,
  timeZoneName: "longOffset",
});

/**
 * Formats an ISO timestamp as a Dutch date and time in Europe/Amsterdam with
 * the offset that applied at that moment, for example
 * "25 oktober 2026 00:30 (UTC+02:00)". The offset makes the hour unambiguous
 * on the night summer time ends.
 */
export function formatAmsterdamTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    throw new RangeError(`Cannot format time "${iso}": it is not an ISO 8601 timestamp`);
  }
  const parts = new Map(amsterdam.formatToParts(date).map((part) => [part.type, part.value]));
  const offset = (parts.get("timeZoneName") ?? "GMT").replace("GMT", "");
  return `${parts.get("day")} ${parts.get("month")} ${parts.get("year")} ` +
    `${parts.get("hour")}:${parts.get("minute")} (UTC${offset || "+00:00"})`;
}
