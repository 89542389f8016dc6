// Step 3's review table: every row of the file, a page at a time, with an X icon on each
// faulty cell; filters All / Errors / Excluded with their counts; a row edited in place
// (Enter saves, Esc cancels); rows selected and excluded or included again; for rows of
// people registered already, what the commit does with them.
import { useMutation, useQuery } from "@urql/preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { describeError } from "../Problem";
import { formatNumber, plural } from "../format";
import excludeMutation from "../../operations/import/ExcludeImportRows.graphql?raw";
import includeMutation from "../../operations/import/IncludeImportRows.graphql?raw";
import rowsQuery from "../../operations/import/ImportRows.graphql?raw";
import actionMutation from "../../operations/import/SetImportRowAction.graphql?raw";
import updateMutation from "../../operations/import/UpdateImportRow.graphql?raw";
import { ErrorIcon } from "./ErrorIcon";
import {
  ACTIONS,
  COLUMNS,
  type Connection,
  type ExistingUserAction,
  type Progress,
  ROW_STATUS_LABELS,
  type Row,
  type RowField,
  actionsFor,
} from "./types";
import { Pager, useCursors } from "../Pager";
import { statusLabel } from "../StatusBadge";

export const PAGE_SIZE = 100;

type Filter = "ALL" | "INVALID" | "EXCLUDED" | "EXISTING";
type Outcome = { __typename: string; code?: string; message?: string };
type Draft = Record<RowField, string> & { rowNumber: number; focus: RowField };

const FILTERS: { value: Filter; label: string; empty: string }[] = [
  { value: "ALL", label: "All", empty: "The file has no rows." },
  { value: "INVALID", label: "Errors", empty: "No row has errors." },
  { value: "EXCLUDED", label: "Excluded", empty: "No row is excluded." },
  { value: "EXISTING", label: "Registered already", empty: "No row belongs to a registered person." },
];

type Props = { batchId: string; filename: string; progress: Progress; onChanged: () => void };

export function ReviewTable({ batchId, filename, progress, onChanged }: Props) {
  const [filter, setFilter] = useState<Filter>("ALL");
  // Keyset paging: choosing a filter starts again at the first page.
  const pages = useCursors();
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [draft, setDraft] = useState<Draft | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const focusAfter = useRef<string | null>(null);

  const [{ data, error, fetching }, refetch] = useQuery<{ importBatch: { rows: Connection<Row> } | null }>({
    query: rowsQuery,
    variables: { id: batchId, status: filter === "ALL" ? null : [filter], first: PAGE_SIZE, after: pages.after },
    requestPolicy: "cache-and-network",
  });
  const [, update] = useMutation<{ updateImportRow: Outcome & Partial<Row> }>(updateMutation);
  type Changed = { excludeImportRows?: Outcome; includeImportRows?: Outcome };
  const [, exclude] = useMutation<Changed>(excludeMutation);
  const [, include] = useMutation<Changed>(includeMutation);
  const [, chooseAction] = useMutation<{ setImportRowAction?: Outcome }>(actionMutation);
  const [everyAction, setEveryAction] = useState<ExistingUserAction>("SKIP");

  const connection = data?.importBatch?.rows;
  const rows = connection?.edges.map((edge) => edge.node) ?? [];

  // After a save or cancel, the focus goes back to the row's Edit button (or the table).
  useEffect(() => {
    const id = focusAfter.current;
    if (!id || draft) return;
    const target = document.getElementById(id) ?? document.getElementById("review-rows");
    if (target) {
      focusAfter.current = null;
      target.focus();
    }
  });

  const counts: Record<Filter, number> = {
    ALL: progress.total,
    INVALID: progress.invalid,
    EXCLUDED: progress.excluded,
    EXISTING: progress.existing ?? 0,
  };

  function refresh() {
    refetch({ requestPolicy: "network-only" });
    onChanged();
  }

  function showFilter(value: Filter) {
    setFilter(value);
    pages.reset();
    setSelected(new Set());
    setDraft(null);
  }

  function startEdit(row: Row, focus: RowField = "firstName") {
    setProblem(null);
    setDraft({
      rowNumber: row.rowNumber,
      focus,
      firstName: row.firstName,
      lastName: row.lastName,
      email: row.email,
      username: row.username ?? "",
    });
  }

  function stopEdit(rowNumber: number) {
    focusAfter.current = `edit-row-${rowNumber}`;
    setDraft(null);
  }

  async function save() {
    if (!draft || busy) return;
    setBusy(true);
    setProblem(null);
    const { rowNumber, firstName, lastName, email, username } = draft;
    const result = await update({
      batchId,
      rowNumber,
      row: { firstName, lastName, email, username: username.trim() === "" ? null : username },
    });
    setBusy(false);
    const outcome = result.data?.updateImportRow;
    if (outcome?.__typename === "ImportRow") {
      setNotice(
        outcome.status === "VALID"
          ? `Row ${rowNumber} saved: it is valid now.`
          : `Row ${rowNumber} saved; it still has ${plural(outcome.errors?.length ?? 0, "error")}.`,
      );
      stopEdit(rowNumber);
      // Rows whose duplicate flags changed with this one are refreshed with the page.
      refresh();
    } else {
      setProblem(outcome?.message ?? (result.error ? describeError(result.error) : "The row could not be saved."));
    }
  }

  async function changeSelected(how: "exclude" | "include") {
    const numbers = [...selected].sort((a, b) => a - b);
    if (numbers.length === 0 || busy) return;
    setBusy(true);
    setProblem(null);
    const result = await (how === "exclude" ? exclude : include)({ batchId, rowNumbers: numbers });
    setBusy(false);
    const outcome = how === "exclude" ? result.data?.excludeImportRows : result.data?.includeImportRows;
    if (outcome?.__typename === "ImportBatch") {
      setSelected(new Set());
      setNotice(`${plural(numbers.length, "row")} ${how === "exclude" ? "excluded" : "included again"}.`);
      refresh();
    } else {
      setProblem(outcome?.message ?? (result.error ? describeError(result.error) : "The rows could not be changed."));
    }
  }

  /** The action for one row (`rowNumber`), or for every registered person's row (null). */
  async function setAction(rowNumber: number | null, action: ExistingUserAction) {
    if (busy) return;
    setBusy(true);
    setProblem(null);
    const result = await chooseAction({ batchId, rowNumbers: rowNumber === null ? null : [rowNumber], action });
    setBusy(false);
    const outcome = result.data?.setImportRowAction;
    const label = ACTIONS.find((a) => a.value === action)!.label;
    if (outcome?.__typename === "ImportBatch") {
      setNotice(rowNumber === null ? `${label}: for every registered person.` : `Row ${rowNumber}: ${label}.`);
      refresh();
    } else {
      setProblem(outcome?.message ?? (result.error ? describeError(result.error) : "The action could not be chosen."));
    }
  }

  const pageNumbers = rows.map((row) => row.rowNumber);
  const allOnPage = pageNumbers.length > 0 && pageNumbers.every((n) => selected.has(n));
  const someOnPage = pageNumbers.some((n) => selected.has(n));
  const first = (pages.pageNumber - 1) * PAGE_SIZE + 1;
  const filterInfo = FILTERS.find((f) => f.value === filter)!;

  function toggle(numbers: number[], on: boolean) {
    const next = new Set(selected);
    for (const n of numbers) {
      if (on) next.add(n);
      else next.delete(n);
    }
    setSelected(next);
  }

  return (
    <div class="review">
      <div class="review-toolbar">
        <div class="filters" role="group" aria-label="Show rows">
          {FILTERS.map((f) => (
            <button
              key={f.value}
              type="button"
              class="filter"
              aria-pressed={filter === f.value}
              onClick={() => showFilter(f.value)}
            >
              {f.label} <span class="count">({formatNumber(counts[f.value])})</span>
            </button>
          ))}
        </div>
        <div class="selection-actions">
          <span class="selected-count" aria-live="polite">
            {selected.size > 0 ? `${plural(selected.size, "row")} selected` : ""}
          </span>
          <button type="button" disabled={selected.size === 0 || busy} onClick={() => void changeSelected("exclude")}>
            Exclude selected
          </button>
          <button type="button" disabled={selected.size === 0 || busy} onClick={() => void changeSelected("include")}>
            Include selected
          </button>
        </div>
      </div>
      {counts.EXISTING > 0 && (
        <div class="every-action" role="group" aria-label="Registered people">
          <label>
            For every registered person:{" "}
            <select
              aria-label="Action for every registered person"
              value={everyAction}
              disabled={busy}
              onChange={(event) => setEveryAction(event.currentTarget.value as ExistingUserAction)}
            >
              {ACTIONS.map((a) => (
                <option key={a.value} value={a.value}>
                  {a.label}
                </option>
              ))}
            </select>
          </label>{" "}
          <button type="button" disabled={busy} onClick={() => void setAction(null, everyAction)}>
            Apply to all
          </button>
        </div>
      )}
      <p class="hint">
        Press <strong>Edit</strong> (or double-click a row) to correct it in place: <kbd>Enter</kbd> saves,{" "}
        <kbd>Esc</kbd> cancels. Point at an <span class="x-sample">X</span> icon to read what is wrong.
      </p>
      <p role="status" class="review-notice">
        {notice}
      </p>
      {problem && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
      {error && !connection && (
        <p class="problem" role="alert">
          {describeError(error)}
        </p>
      )}
      <div class="table-scroll">
        <table class="review-table" id="review-rows" tabIndex={-1} aria-busy={fetching ? "true" : "false"}>
          <caption class="visually-hidden">
            Rows of {filename}: {filterInfo.label}
          </caption>
          <thead>
            <tr>
              <th scope="col" class="select-col">
                <SelectAll
                  checked={allOnPage}
                  mixed={someOnPage && !allOnPage}
                  disabled={rows.length === 0}
                  onChange={(on) => toggle(pageNumbers, on)}
                />
              </th>
              <th scope="col">Row</th>
              {COLUMNS.map((c) => (
                <th key={c.field} scope="col">
                  {c.label}
                </th>
              ))}
              <th scope="col">Status</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) =>
              draft?.rowNumber === row.rowNumber ? (
                <EditedRow
                  key={row.rowNumber}
                  row={row}
                  draft={draft}
                  busy={busy}
                  selected={selected.has(row.rowNumber)}
                  onSelect={(on) => toggle([row.rowNumber], on)}
                  onChange={setDraft}
                  onSave={() => void save()}
                  onCancel={() => stopEdit(row.rowNumber)}
                />
              ) : (
                <tr
                  key={row.rowNumber}
                  class={`row-${row.status.toLowerCase()}`}
                  onDblClick={(event) => {
                    // The input of the cell double-clicked takes the focus.
                    const cell = (event.target as HTMLElement).closest<HTMLElement>("[data-field]");
                    startEdit(row, (cell?.dataset.field as RowField | undefined) ?? "firstName");
                  }}
                >
                  <td class="select-col">
                    <input
                      type="checkbox"
                      aria-label={`Select row ${row.rowNumber}`}
                      checked={selected.has(row.rowNumber)}
                      onChange={(event) => toggle([row.rowNumber], event.currentTarget.checked)}
                    />
                  </td>
                  <th scope="row" class="row-number">
                    {row.rowNumber}
                  </th>
                  {COLUMNS.map((c) => {
                    const errors = row.errors.filter((e) => e.column === c.column);
                    const value = row[c.field] ?? "";
                    return (
                      <td key={c.field} data-field={c.field} class={errors.length > 0 ? "cell-faulty" : undefined}>
                        <span class="cell">
                          {value === "" ? <span class="visually-hidden">empty</span> : <span>{value}</span>}
                          {errors.length > 0 && (
                            <ErrorIcon where={c.label.toLowerCase()} messages={errors.map((e) => e.message)} />
                          )}
                        </span>
                      </td>
                    );
                  })}
                  <td>
                    <span class="cell">
                      <span class={`row-status row-status-${row.status.toLowerCase()}`}>
                        {ROW_STATUS_LABELS[row.status]}
                      </span>
                      {row.status === "EXISTING" && (
                        <ExistingPerson row={row} busy={busy} onChoose={(action) => void setAction(row.rowNumber, action)} />
                      )}
                      {row.errors.some((e) => e.column === null) && (
                        <ErrorIcon
                          where="row"
                          messages={row.errors.filter((e) => e.column === null).map((e) => e.message)}
                        />
                      )}
                    </span>
                  </td>
                  <td class="row-actions">
                    <button
                      type="button"
                      id={`edit-row-${row.rowNumber}`}
                      aria-label={`Edit row ${row.rowNumber}`}
                      disabled={busy}
                      onClick={() => startEdit(row)}
                    >
                      Edit
                    </button>
                  </td>
                </tr>
              ),
            )}
          </tbody>
        </table>
      </div>
      {connection && rows.length === 0 && <p class="empty">{filterInfo.empty}</p>}
      {connection && (
        <Pager
          label="Pages of rows"
          hasPrevious={pages.hasPrevious}
          hasNext={connection.pageInfo.hasNextPage}
          busy={fetching}
          onPrevious={pages.previous}
          onNext={() => pages.next(connection.pageInfo.endCursor)}
        >
          {rows.length > 0
            ? `Rows ${formatNumber(first)}–${formatNumber(first + rows.length - 1)} of ${formatNumber(connection.totalCount)}`
            : `${formatNumber(connection.totalCount)} rows`}
        </Pager>
      )}
    </div>
  );
}

/** A registered person's status, and the choice of what the commit does with them. */
function ExistingPerson(props: { row: Row; busy: boolean; onChoose: (action: ExistingUserAction) => void }) {
  const { row } = props;
  const status = row.existingUserStatus;
  return (
    <span class="existing-person">
      <span class="existing-status">{status ? statusLabel(status) : ""} user</span>
      <select
        aria-label={`Action for row ${row.rowNumber}`}
        value={row.action ?? "SKIP"}
        disabled={props.busy}
        onChange={(event) => props.onChoose(event.currentTarget.value as ExistingUserAction)}
      >
        {actionsFor(status).map((a) => (
          <option key={a.value} value={a.value}>
            {a.label}
          </option>
        ))}
      </select>
    </span>
  );
}

function SelectAll(props: { checked: boolean; mixed: boolean; disabled: boolean; onChange: (on: boolean) => void }) {
  const box = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (box.current) box.current.indeterminate = props.mixed;
  }, [props.mixed]);
  return (
    <input
      ref={box}
      type="checkbox"
      aria-label="Select all rows on this page"
      checked={props.checked}
      disabled={props.disabled}
      onChange={(event) => props.onChange(event.currentTarget.checked)}
    />
  );
}

type EditedRowProps = {
  row: Row;
  draft: Draft;
  busy: boolean;
  selected: boolean;
  onSelect: (on: boolean) => void;
  onChange: (draft: Draft) => void;
  onSave: () => void;
  onCancel: () => void;
};

/** A row in place as inputs: Enter saves it, Esc cancels. */
function EditedRow({ row, draft, busy, selected, onSelect, onChange, onSave, onCancel }: EditedRowProps) {
  const firstInput = useRef<HTMLInputElement>(null);
  // Before the row is painted: focus must not jump away from a field already typed in.
  useLayoutEffect(() => {
    firstInput.current?.focus();
    firstInput.current?.select();
  }, []);
  const keys = (event: KeyboardEvent) => {
    const target = event.target;
    const inField = target instanceof HTMLInputElement && target.type !== "checkbox";
    if (event.key === "Enter" && inField) {
      event.preventDefault();
      onSave();
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      onCancel();
    }
  };
  const n = row.rowNumber;
  return (
    <tr class="row-editing" onKeyDown={keys}>
      <td class="select-col">
        <input
          type="checkbox"
          aria-label={`Select row ${n}`}
          checked={selected}
          onChange={(event) => onSelect(event.currentTarget.checked)}
        />
      </td>
      <th scope="row" class="row-number">
        {n}
      </th>
      {COLUMNS.map((c) => {
        const errors = row.errors.filter((e) => e.column === c.column);
        const described = errors.length > 0 ? `edit-${n}-${c.field}-errors` : undefined;
        return (
          <td key={c.field}>
            <input
              ref={c.field === draft.focus ? firstInput : undefined}
              class="cell-input"
              aria-label={`${c.label}, row ${n}`}
              aria-invalid={errors.length > 0 ? "true" : undefined}
              aria-describedby={described}
              value={draft[c.field]}
              disabled={busy}
              onInput={(event) => onChange({ ...draft, [c.field]: event.currentTarget.value })}
            />
            {described && (
              <span class="field-error" id={described}>
                {errors.map((e) => e.message).join(" ")}
              </span>
            )}
          </td>
        );
      })}
      <td>
        <span class="row-status">{ROW_STATUS_LABELS[row.status]}</span>
        {row.errors
          .filter((e) => e.column === null)
          .map((e) => (
            <span key={e.code} class="field-error">
              {e.message}
            </span>
          ))}
      </td>
      <td class="row-actions">
        <button type="button" class="primary" disabled={busy} onClick={onSave} aria-label={`Save row ${n}`}>
          Save
        </button>
        <button type="button" disabled={busy} onClick={onCancel} aria-label={`Cancel editing row ${n}`}>
          Cancel
        </button>
      </td>
    </tr>
  );
}
