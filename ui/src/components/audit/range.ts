// The audit feed's time range: datetime-local values (the browser's time zone) to ISO
// 8601 with the browser's offset for the API, and back.

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/;
const WITH_OFFSET = /T\d{2}:\d{2}(?::\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, "0");

/** A moment as ISO 8601 in the browser's time zone: `2025-03-30T01:59:30+01:00`. */
export function isoWithOffset(date: Date, withMilliseconds = date.getMilliseconds() !== 0): string {
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  const ms = withMilliseconds ? `.${pad(date.getMilliseconds(), 3)}` : "";
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}${ms}` +
    `${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`
  );
}

/** A datetime-local input's value (`2025-03-30T01:59` or with seconds) as a moment, or null. */
export function parseLocal(value: string): Date | null {
  const parts = LOCAL.exec(value.trim());
  if (!parts) return null;
  const [, y, mo, d, h, mi, s = "0", ms = "0"] = parts;
  const date = new Date(+y, +mo - 1, +d, +h, +mi, +s, +ms.padEnd(3, "0"));
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A moment from the address (ISO 8601 with an offset), or null when it is not one. */
export function parseIso(value: string | null | undefined): Date | null {
  if (!value || !WITH_OFFSET.test(value)) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** The moment as a datetime-local input shows it (with seconds; milliseconds when any). */
export function toLocalInput(date: Date | null): string {
  if (!date) return "";
  return isoWithOffset(date).replace(/([+-]\d{2}:\d{2}|Z)$/, "");
}

/**
 * The end of a range is inclusive, to the precision it was given in: "To 10:05:30" holds
 * the changes made during that second. The API's `until` is exclusive: the next unit.
 */
export function exclusiveEnd(value: string): Date | null {
  const date = parseIso(value);
  if (!date) return null;
  const time = /T(\d{2}:\d{2})(:\d{2})?(\.\d+)?/.exec(value);
  const step = time?.[3] ? 1 : time?.[2] ? 1000 : 60_000;
  return new Date(date.getTime() + step);
}

/** The browser's time zone, named: "Europe/Lisbon". */
export function timeZoneName(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone ?? "your time zone";
}
