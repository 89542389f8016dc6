import { formatDate, formatDateTime } from "../format";

/** A moment in the browser's locale and time zone: the date (or date and time) shown, the
 * full timestamp as its tooltip, the ISO instant in `datetime`. */
export function Moment({ iso, withTime = false }: { iso: string; withTime?: boolean }) {
  const full = formatDateTime(iso);
  return (
    <time dateTime={iso} title={full}>
      {withTime ? full : formatDate(iso)}
    </time>
  );
}
