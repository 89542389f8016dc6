// "Download error report": the server's CSV of a batch's INVALID and FAILED rows, fetched
// with the bearer token (see ../download.ts).
import { useState } from "preact/hooks";
import { download } from "../download";

const REFUSED: Record<number, string> = {
  401: "Your session has expired. Sign in again to download the error report.",
  403: "Your profile does not allow downloading this error report.",
  404: "This import no longer exists.",
};

export function ErrorReportLink({ url, batchId }: { url: string; batchId: string }) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  async function save(event: MouseEvent) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setProblem(null);
    setProblem(await download(url, `errors-${batchId}.csv`, REFUSED, "error report"));
    setBusy(false);
  }

  return (
    <span class="error-report">
      <a href={url} onClick={(event) => void save(event)} aria-busy={busy ? "true" : undefined}>
        Download error report
      </a>
      {problem && (
        <span class="problem inline" role="alert">
          {problem}
        </span>
      )}
    </span>
  );
}
