// The batch's progress as the importProgress subscription reports it: the checking of a
// large file (VALIDATING), the registering of the users (COMMITTING), then the summary.
import { useQuery } from "@urql/preact";
import { Link } from "../../router";
import { describeError } from "../Problem";
import { formatNumber, plural } from "../format";
import rowsQuery from "../../operations/import/ImportRows.graphql?raw";
import { ErrorReportLink } from "./ErrorReportLink";
import { PhaseLine } from "./PhaseLine";
import { COLUMNS, type Batch, type Connection, type Progress, type Row } from "./types";
import { Pager, useCursors } from "../Pager";

export function CheckingProgress({ progress }: { progress: Progress }) {
  return (
    <div class="live-progress">
      <p>
        The file is large, so its rows are checked in the background. You may leave this page: this import's address
        brings you back to it.
      </p>
      <PhaseLine progress={progress} />
      <progress aria-label="Rows checked" max={Math.max(progress.total, 1)} value={progress.validated} />
      <p class="progress-counts" aria-live="polite">
        {formatNumber(progress.validated)} of {plural(progress.total, "row")} checked
        {progress.invalid > 0 && <>, {plural(progress.invalid, "row")} with errors so far</>}.
      </p>
    </div>
  );
}

export function CreatingProgress({ progress }: { progress: Progress }) {
  return (
    <div class="live-progress">
      <p>The users are being registered; each gets an invitation at their access email.</p>
      <PhaseLine progress={progress} />
      <progress aria-label="Users created" max={Math.max(toProcess(progress), 1)} value={progress.processed} />
      <p class="progress-counts" aria-live="polite">
        {formatNumber(progress.processed)} of {plural(toProcess(progress), "row")} processed:{" "}
        <span class="created-count">{formatNumber(progress.created)} created</span>,{" "}
        <span class="failed-count">{formatNumber(progress.failed)} failed</span>
        {(progress.existing ?? 0) > 0 && (
          <>
            , {formatNumber(progress.updated ?? 0)} updated, {formatNumber(progress.skipped ?? 0)} skipped
          </>
        )}
        .
      </p>
    </div>
  );
}

/** The rows a commit goes through: the valid ones and those of people registered already. */
function toProcess(progress: Progress): number {
  return progress.valid + (progress.existing ?? 0);
}

export function Summary({ batch, progress }: { batch: Batch; progress: Progress }) {
  return (
    <div class="summary">
      <p class="success" role="status">
        The import is complete: {plural(progress.created, "user")} created. Each got an invitation at their access
        email and stays Pending until they accept it.
      </p>
      {(progress.updated ?? 0) + (progress.skipped ?? 0) > 0 && (
        <p class="existing-outcome">
          Of the people registered already, {formatNumber(progress.updated ?? 0)} updated as chosen and{" "}
          {formatNumber(progress.skipped ?? 0)} left as they were.
        </p>
      )}
      <dl class="counts">
        <div>
          <dt>Created</dt>
          <dd>{formatNumber(progress.created)}</dd>
        </div>
        <div>
          <dt>Failed</dt>
          <dd>{formatNumber(progress.failed)}</dd>
        </div>
        <div>
          <dt>Excluded</dt>
          <dd>{formatNumber(progress.excluded)}</dd>
        </div>
        {(progress.updated ?? 0) + (progress.skipped ?? 0) > 0 && (
          <>
            <div>
              <dt>Updated</dt>
              <dd>{formatNumber(progress.updated ?? 0)}</dd>
            </div>
            <div>
              <dt>Skipped</dt>
              <dd>{formatNumber(progress.skipped ?? 0)}</dd>
            </div>
          </>
        )}
      </dl>
      {progress.failed > 0 && <Failures batchId={batch.id} />}
      <div class="actions">
        {progress.failed > 0 && <ErrorReportLink url={batch.errorReportUrl} batchId={batch.id} />}
        <Link href="/users" class="button primary">
          Go to User Management
        </Link>
        <Link href="/imports/new" class="button">
          Import another file
        </Link>
      </div>
    </div>
  );
}

/** The rows whose registration failed at commit time, with why. */
function Failures({ batchId }: { batchId: string }) {
  const pages = useCursors();
  const [{ data, error, fetching }] = useQuery<{ importBatch: { rows: Connection<Row> } | null }>({
    query: rowsQuery,
    variables: { id: batchId, status: ["FAILED"], first: 100, after: pages.after },
  });
  const connection = data?.importBatch?.rows;
  return (
    <section class="failures" aria-labelledby="failures-heading">
      <h3 id="failures-heading">Rows that could not be registered</h3>
      {error && (
        <p class="problem" role="alert">
          {describeError(error)}
        </p>
      )}
      {connection && (
        <div class="table-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Row</th>
                {COLUMNS.map((c) => (
                  <th key={c.field} scope="col">
                    {c.label}
                  </th>
                ))}
                <th scope="col">What went wrong</th>
              </tr>
            </thead>
            <tbody>
              {connection.edges.map(({ node }) => (
                <tr key={node.rowNumber}>
                  <th scope="row">{node.rowNumber}</th>
                  {COLUMNS.map((c) => (
                    <td key={c.field}>{node[c.field] ?? ""}</td>
                  ))}
                  <td>
                    <ul class="failure-reasons">
                      {node.errors.map((e, index) => (
                        <li key={index}>{e.message}</li>
                      ))}
                    </ul>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {connection && (connection.pageInfo.hasNextPage || pages.hasPrevious) && (
        <Pager
          label="Pages of failed rows"
          hasPrevious={pages.hasPrevious}
          hasNext={connection.pageInfo.hasNextPage}
          busy={fetching}
          onPrevious={pages.previous}
          onNext={() => pages.next(connection.pageInfo.endCursor)}
        />
      )}
    </section>
  );
}

export function Cancelled({ progress }: { progress: Progress }) {
  return (
    <div class="summary">
      <p class="notice" role="status">
        This import was cancelled
        {progress.created > 0
          ? `: ${plural(progress.created, "user")} had been created before and stay${progress.created === 1 ? "s" : ""}; no other row of the file will be registered.`
          : ": nobody from its file was registered."}
      </p>
      <div class="actions">
        <Link href="/imports/new" class="button primary">
          Import another file
        </Link>
        <Link href="/users" class="button">
          Go to User Management
        </Link>
      </div>
    </div>
  );
}
