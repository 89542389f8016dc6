// Imports: the import batches, newest first, each a link back into its batch (the wizard
// resumes at the batch's state), and the "Import Users" button.
import { useQuery } from "@urql/preact";
import { useEffect } from "preact/hooks";
import { ImportStatusBadge } from "../components/batches/ImportStatusBadge";
import type { ImportStatus, Progress as BatchProgress } from "../components/import/types";
import { ProblemMessage } from "../components/Problem";
import { formatDateTime, formatNumber, plural } from "../components/format";
import importBatchesQuery from "../operations/batches/importBatches.graphql?raw";
import { Link } from "../router";
import "./Imports.css";
import { Pager, useCursors } from "../components/Pager";

const PAGE_SIZE = 20;
/** While a batch is being checked or committed, its row is refreshed this often. */
const REFRESH_MS = 3000;

/** The counts this list asks for (importBatches.graphql). */
type Progress = Omit<BatchProgress, "batchId" | "status" | "validated">;
type Batch = {
  id: string;
  filename: string;
  createdAt: string;
  createdBy: string;
  status: ImportStatus;
  progress: Progress;
};
type Data = {
  importBatches: {
    edges: { cursor: string; node: Batch }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
};

export function ImportsPage(_props: { id?: string }) {
  const pages = useCursors();
  const [{ data, error, fetching }, refresh] = useQuery<Data>({
    query: importBatchesQuery,
    variables: { first: PAGE_SIZE, after: pages.after },
  });
  const batches = data?.importBatches.edges.map((edge) => edge.node) ?? [];
  const pageInfo = data?.importBatches.pageInfo;
  const working = batches.some((batch) => batch.status === "VALIDATING" || batch.status === "COMMITTING");
  useEffect(() => {
    if (!working) return;
    const timer = setInterval(() => refresh({ requestPolicy: "network-only" }), REFRESH_MS);
    return () => clearInterval(timer);
  }, [working, refresh]);

  const pageNumber = pages.pageNumber;
  const moved = (move: () => void) => () => {
    move();
    document.querySelector<HTMLElement>("main h1")?.focus();
  };

  return (
    <section class="imports-page" aria-labelledby="imports-title">
      <header class="page-header">
        <h1 id="imports-title" tabIndex={-1}>
          Imports
        </h1>
        <Link href="/imports/new" class="button primary">
          Import Users
        </Link>
      </header>
      <ProblemMessage error={data ? null : error} />
      {fetching && !data && (
        <p class="loading" role="status">
          Loading imports…
        </p>
      )}
      {data && batches.length === 0 && pageNumber === 1 && (
        <div class="empty">
          <p>
            <strong>No imports yet.</strong>
          </p>
          <p>
            Use <Link href="/imports/new">Import Users</Link> to add people from a CSV file: download the template, fill
            it in, and drop it on the page.
          </p>
        </div>
      )}
      {batches.length > 0 && (
        <table class="imports">
          <caption class="visually-hidden">Import batches, newest first</caption>
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col">Uploaded</th>
              <th scope="col">Uploaded by</th>
              <th scope="col">Status</th>
              <th scope="col">Rows</th>
            </tr>
          </thead>
          <tbody>
            {batches.map((batch) => (
              <tr key={batch.id}>
                <td class="file">
                  <Link href={`/imports/${encodeURIComponent(batch.id)}`}>{batch.filename}</Link>
                </td>
                <td>
                  <time dateTime={batch.createdAt}>{formatDateTime(batch.createdAt)}</time>
                </td>
                <td class="uploader">{batch.createdBy}</td>
                <td>
                  <ImportStatusBadge status={batch.status} />
                </td>
                <td>
                  <RowCounts status={batch.status} progress={batch.progress} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {(pageNumber > 1 || pageInfo?.hasNextPage) && (
        <Pager
          label="Pages of imports"
          hasPrevious={pageNumber > 1}
          hasNext={Boolean(pageInfo?.hasNextPage && pageInfo.endCursor)}
          onPrevious={moved(pages.previous)}
          onNext={moved(() => pages.next(pageInfo?.endCursor))}
        >
          Page {formatNumber(pageNumber)}
        </Pager>
      )}
    </section>
  );
}

/** The batch's rows, compactly: how many, how they were checked, what the commit made. */
function RowCounts({ status, progress }: { status: ImportStatus; progress: Progress }) {
  const committed = progress.processed > 0 || status === "COMMITTING" || status === "COMPLETED";
  const items: { text: string; tone?: string }[] = [];
  if (progress.valid > 0) items.push({ text: `${formatNumber(progress.valid)} valid` });
  if (progress.invalid > 0) items.push({ text: `${formatNumber(progress.invalid)} invalid`, tone: "bad" });
  if (progress.excluded > 0) items.push({ text: `${formatNumber(progress.excluded)} excluded` });
  const existing = progress.existing ?? 0;
  if (existing > 0 && !committed) items.push({ text: `${formatNumber(existing)} registered already` });
  if (committed) {
    items.push({ text: `${formatNumber(progress.created)} created`, tone: "good" });
    items.push({ text: `${formatNumber(progress.failed)} failed`, tone: progress.failed > 0 ? "bad" : undefined });
    if (progress.updated) items.push({ text: `${formatNumber(progress.updated)} updated`, tone: "good" });
    if (progress.skipped) items.push({ text: `${formatNumber(progress.skipped)} skipped` });
  }
  return (
    <div class="row-counts">
      <span class="row-total">{plural(progress.total, "row")}</span>
      {items.length > 0 && (
        <ul>
          {items.map((item) => (
            <li key={item.text} class={item.tone ? `count-${item.tone}` : undefined}>
              {item.text}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
