// Step 3's drop zone: drag the file here, or choose it (a button, or Enter/Space on the
// focused zone). The file goes to startImport as a GraphQL multipart request (urql sends
// one when a variable is a File); the server checks the whole file first.
import type { CombinedError } from "@urql/core";
import type { ComponentChildren } from "preact";
import { useMutation } from "@urql/preact";
import { useRef, useState } from "preact/hooks";
import { errorCodes } from "../../client";
import { describeError } from "../Problem";
import { formatNumber } from "../format";
import startImportMutation from "../../operations/import/StartImport.graphql?raw";
import { TemplateLink, TemplateTip } from "./TemplateLink";
import type { InvalidFile } from "./types";

type Started = { __typename: "ImportBatch"; id: string; status: string } | InvalidFile;

/** Each InvalidFile reason in words; the server's message says what to do. */
const REASONS: Record<string, string> = {
  NOT_CSV: "This file is not a CSV file.",
  EMPTY: "This file is empty.",
  TOO_LARGE: "This file is larger than the server accepts.",
  TOO_MANY_ROWS: "This file has more rows than one import takes.",
  UNREADABLE_ENCODING: "The characters of this file could not be read.",
  MALFORMED: "This file is not laid out as a CSV file.",
  MISSING_COLUMNS: "Columns of the template are missing from this file.",
  UNEXPECTED_COLUMNS: "This file has columns the template does not have.",
};

export function UploadZone({ onStarted }: { onStarted: (batchId: string) => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  const [sending, setSending] = useState<string | null>(null);
  const [refused, setRefused] = useState<InvalidFile | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const [, startImport] = useMutation<{ startImport: Started }, { file: File }>(startImportMutation);

  async function upload(files: FileList | null | undefined) {
    if (!files || files.length === 0) return;
    setRefused(null);
    setFailed(null);
    if (files.length > 1) {
      setFailed("Drop one file at a time: one import reads one CSV file.");
      return;
    }
    const file = files[0];
    setSending(file.name);
    const result = await startImport({ file });
    setSending(null);
    if (input.current) input.current.value = "";
    const started = result.data?.startImport;
    if (started?.__typename === "ImportBatch") onStarted(started.id);
    else if (started?.__typename === "InvalidFile") setRefused(started);
    else setFailed(uploadFailure(result.error));
  }

  const choose = () => input.current?.click();

  return (
    <div class="upload">
      <div
        class={`drop-zone${dragging ? " dragging" : ""}${sending ? " sending" : ""}`}
        role="button"
        tabIndex={0}
        aria-label="Drag the file here, or press Enter to choose a file"
        aria-describedby="drop-zone-hint"
        aria-disabled={sending ? "true" : undefined}
        onKeyDown={(event) => {
          if (event.key === " ") event.preventDefault(); // no scrolling; the picker opens on keyup
          if (event.key === "Enter" && !sending) {
            event.preventDefault();
            choose();
          }
        }}
        onKeyUp={(event) => {
          // As a native button does, Space acts when released.
          if (event.key === " " && !sending) {
            event.preventDefault();
            choose();
          }
        }}
        onDragEnter={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragOver={(event) => {
          event.preventDefault();
          if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
          setDragging(true);
        }}
        onDragLeave={(event) => {
          if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setDragging(false);
        }}
        onDrop={(event) => {
          event.preventDefault();
          setDragging(false);
          if (!sending) void upload(event.dataTransfer?.files);
        }}
      >
        <span class="drop-icon" aria-hidden="true">
          ⇪
        </span>
        <span class="drop-title">Drag the file here</span>
        <span class="hint" id="drop-zone-hint">
          The filled-in CSV template, one file. Or choose it from your computer.
        </span>
      </div>
      <div class="upload-actions">
        <button type="button" class="primary" onClick={choose} disabled={sending !== null}>
          Choose a file
        </button>
        <input
          ref={input}
          type="file"
          accept=".csv,text/csv,text/plain"
          hidden
          aria-label="CSV file to import"
          onChange={(event) => void upload(event.currentTarget.files)}
        />
        {sending && (
          <p class="sending-note" role="status">
            Uploading {sending} and checking every row…
          </p>
        )}
      </div>
      {refused && <Refusal refusal={refused} />}
      {failed && (
        <div class="problem" role="alert">
          <p>{failed}</p>
        </div>
      )}
    </div>
  );
}

/** Why the server refused the file, with the columns at fault, next to the template. */
function Refusal({ refusal }: { refusal: InvalidFile }) {
  return (
    <FileRefusal refusal={refusal} fallback="The file cannot be imported.">
      <p class="refusal-template">
        Start again from the template: <TemplateLink />
      </p>
      <TemplateTip />
    </FileRefusal>
  );
}

type FileRefusalProps = {
  refusal: InvalidFile;
  /** The headline for a reason this console has no words for. */
  fallback: string;
  /** A sentence after the server's message. */
  note?: string;
  children?: ComponentChildren;
};

/** A file the server refused (InvalidFile): the reason in words, its message, the columns
 * at fault; then whatever the screen adds. */
export function FileRefusal({ refusal, fallback, note, children }: FileRefusalProps) {
  return (
    <div class="problem refusal" role="alert">
      <p>
        <strong>{REASONS[refusal.reason] ?? fallback}</strong> {refusal.message}
        {note && ` ${note}`}
      </p>
      {refusal.missingColumns.length > 0 && <ColumnList title="Missing columns" columns={refusal.missingColumns} />}
      {refusal.unexpectedColumns.length > 0 && (
        <ColumnList title="Unexpected columns" columns={refusal.unexpectedColumns} />
      )}
      {children}
    </div>
  );
}

function ColumnList({ title, columns }: { title: string; columns: string[] }) {
  const id = `columns-${title.toLowerCase().replace(/\s+/g, "-")}`;
  return (
    <div class="column-list">
      <p id={id}>
        {title} ({formatNumber(columns.length)}):
      </p>
      <ul aria-labelledby={id}>
        {columns.map((column) => (
          <li key={column}>
            <code>{column}</code>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** An upload refused as a whole (HTTP 413, 503 TRY_AGAIN, 403...), in words. */
export function uploadFailure(error: CombinedError | undefined): string {
  if (!error) return "The file could not be uploaded. Try again.";
  if (error.networkError && error.graphQLErrors.length === 0) {
    return (
      "The file could not be sent: the connection to the server was lost. A file far larger than the server " +
      "accepts is refused before it is read; otherwise check your connection and try again."
    );
  }
  const code = errorCodes(error)[0];
  return (code && UPLOAD_REFUSALS[code]) ?? describeError(error);
}

/** Uploads refused before the file is read (README "Bulk import, step by step"). */
const UPLOAD_REFUSALS: Record<string, string> = {
  PAYLOAD_TOO_LARGE: "The file is larger than the server accepts: split it into smaller files and import each.",
  TRY_AGAIN: "The server is receiving other files right now. Try again in a few seconds.",
  FORBIDDEN: "Your profile does not allow importing users.",
};
