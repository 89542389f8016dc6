// "Download error report": the server's CSV of a batch's INVALID and FAILED rows. It needs
// the bearer token (web/downloads.py reads the Authorization header), which a plain link
// cannot send: the file is fetched with it and saved under the server's filename.
import { useState } from "preact/hooks";
import { session } from "../../auth";

const REFUSED: Record<number, string> = {
  401: "Your session has expired. Sign in again to download the error report.",
  403: "Your profile does not allow downloading this error report.",
  404: "This import no longer exists.",
};

export function ErrorReportLink({ url, batchId }: { url: string; batchId: string }) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  async function download(event: MouseEvent) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setProblem(null);
    try {
      const response = await fetch(url, {
        headers: { Authorization: session.value ? `Bearer ${session.value.token}` : "" },
      });
      if (!response.ok) {
        setProblem(REFUSED[response.status] ?? "The error report could not be downloaded. Try again.");
        return;
      }
      const blob = await response.blob();
      const name = filenameOf(response.headers.get("content-disposition")) ?? `errors-${batchId}.csv`;
      const href = URL.createObjectURL(blob);
      const save = document.createElement("a");
      save.href = href;
      save.download = name;
      document.body.append(save);
      save.click();
      save.remove();
      setTimeout(() => URL.revokeObjectURL(href), 60_000);
    } catch {
      setProblem("The error report could not be downloaded: the server could not be reached.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <span class="error-report">
      <a href={url} onClick={(event) => void download(event)} aria-busy={busy ? "true" : undefined}>
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

function filenameOf(disposition: string | null): string | null {
  const found = disposition?.match(/filename="?([^";]+)"?/i);
  return found ? found[1] : null;
}
