// "Export": downloads what a screen lists, whole, as CSV (GET /users.csv or
// /status-changes.csv with the screen's search, filters, order or range).
import { useState } from "preact/hooks";
import { download } from "./download";

const REFUSED: Record<number, string> = {
  401: "Your session has expired. Sign in again to export.",
  403: "Your profile does not allow this export.",
};

type Props = {
  /** The file's address, with the query string of what is shown. */
  url: string;
  /** The name to save it under if the server gives none. */
  filename: string;
  /** What the file holds, for the button's description ("the users shown"). */
  holds: string;
};

export function ExportButton({ url, filename, holds }: Props) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  async function save() {
    if (busy) return;
    setBusy(true);
    setProblem(null);
    setProblem(await download(url, filename, REFUSED, "export"));
    setBusy(false);
  }

  return (
    <span class="export">
      <button type="button" title={`Download ${holds} as a CSV file`} aria-busy={busy} onClick={() => void save()}>
        Export
      </button>
      {problem && (
        <span class="problem inline" role="alert">
          {problem}
        </span>
      )}
    </span>
  );
}
