// Dates and numbers in the browser's locale and time zone.
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const number = new Intl.NumberFormat();

export function formatDateTime(iso: string | null | undefined): string {
  return iso ? dateTime.format(new Date(iso)) : "";
}

export function formatDate(iso: string | null | undefined): string {
  return iso ? dateOnly.format(new Date(iso)) : "";
}

export function formatNumber(value: number): string {
  return number.format(value);
}

/** "1 row", "3 rows". */
export function plural(count: number, one: string, many = one + "s"): string {
  return `${formatNumber(count)} ${count === 1 ? one : many}`;
}
