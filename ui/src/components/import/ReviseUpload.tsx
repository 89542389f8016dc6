// Step 3's way back from a spreadsheet: the error report is downloaded, corrected and
// uploaded here into the same batch (reviseImport). A line with a row number replaces
// that row, one without is added; the server checks the whole file first and changes
// nothing when it refuses it.
import { useMutation } from "@urql/preact";
import { useRef, useState } from "preact/hooks";
import { plural } from "../format";
import reviseMutation from "../../operations/import/ReviseImport.graphql?raw";
import { FileRefusal, uploadFailure } from "./UploadZone";
import type { InvalidFile, Progress } from "./types";

type Revised =
  | { __typename: "ImportBatch"; id: string; progress: Progress }
  | InvalidFile
  | { __typename: "NotFound" | "InvalidState" | "InvalidInput"; code: string; message: string };

type Props = { batchId: string; before: Progress; onRevised: () => void };

export function ReviseUpload({ batchId, before, onRevised }: Props) {
  const input = useRef<HTMLInputElement>(null);
  const [sending, setSending] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [refused, setRefused] = useState<InvalidFile | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [, revise] = useMutation<{ reviseImport: Revised }, { batchId: string; file: File }>(reviseMutation);

  async function upload(files: FileList | null) {
    const file = files?.[0];
    if (!file) return;
    setNotice(null);
    setRefused(null);
    setProblem(null);
    setSending(file.name);
    const result = await revise({ batchId, file });
    setSending(null);
    if (input.current) input.current.value = "";
    const outcome = result.data?.reviseImport;
    if (outcome?.__typename === "ImportBatch") {
      const { progress } = outcome;
      const added = progress.total - before.total;
      setNotice(
        `${file.name} is taken in${added > 0 ? `, with ${plural(added, "new row")}` : ""}: ` +
          `${plural(progress.invalid, "row")} still with errors.`,
      );
      onRevised();
    } else if (outcome?.__typename === "InvalidFile") setRefused(outcome);
    else if (outcome) setProblem(outcome.message);
    else setProblem(uploadFailure(result.error));
  }

  return (
    <div class="revise">
      <button type="button" onClick={() => input.current?.click()} disabled={sending !== null}>
        Upload corrected file
      </button>
      <input
        ref={input}
        type="file"
        accept=".csv,text/csv,text/plain"
        hidden
        aria-label="Corrected CSV file"
        onChange={(event) => void upload(event.currentTarget.files)}
      />
      {sending && (
        <p class="sending-note" role="status">
          Uploading {sending} and checking its rows…
        </p>
      )}
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {refused && <FileRefusal refusal={refused} fallback="The file cannot be used." note="Nothing was changed." />}
      {problem && (
        <p class="problem" role="alert">
          {problem} Nothing was changed.
        </p>
      )}
    </div>
  );
}
