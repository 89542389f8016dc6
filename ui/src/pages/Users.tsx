// User Management: every user in a table (Name, Access Email, Username, Creation Date,
// Status), searched as you type, filtered by status, sorted by the columns the API sorts by,
// in keyset pages. Search, filter, sort and page size live in the query string.
import { useQuery } from "@urql/preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { type UserStatus, can, useCaller } from "../caller";
import { ExportButton } from "../components/ExportButton";
import { ProblemMessage } from "../components/Problem";
import { StatusBadge, statusLabel } from "../components/StatusBadge";
import { formatNumber, plural } from "../components/format";
import { rememberListAddress } from "../components/users/listAddress";
import { Moment } from "../components/users/Moment";
import { shownName, shownValue } from "../components/users/erased";
import usersQuery from "../operations/users/users.graphql?raw";
import { Link, location$, setQuery } from "../router";
import "./Users.css";
import { type Cursors, Pager, useCursors } from "../components/Pager";
import { BulkActions } from "../components/bulk/BulkActions";

type SortField = "CREATED_AT" | "NAME" | "EMAIL" | "USERNAME" | "STATUS";
type Direction = "ASC" | "DESC";

type UserRow = { id: string; name: string; email: string; username: string; createdAt: string; status: UserStatus };
type UserList = {
  users: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { cursor: string; node: UserRow }[];
  };
};

const COLUMNS: { field: SortField; label: string }[] = [
  { field: "NAME", label: "Name" },
  { field: "EMAIL", label: "Access Email" },
  { field: "USERNAME", label: "Username" },
  { field: "CREATED_AT", label: "Creation Date" },
  { field: "STATUS", label: "Status" },
];
const SORT_FIELDS = COLUMNS.map((c) => c.field);
const PAGE_SIZES = [10, 25, 50, 100];
const DEFAULT_SIZE = 25;
const DEBOUNCE_MS = 150;
/** The server's limit on a search (schema/queries/users.py MAX_SEARCH_LENGTH). */
const MAX_SEARCH_LENGTH = 200;

/** Newest first for dates, A to Z for the rest, when a column is first chosen. */
function firstDirection(field: SortField): Direction {
  return field === "CREATED_AT" ? "DESC" : "ASC";
}

function describeOrder(field: SortField, direction: Direction): string {
  const label = COLUMNS.find((c) => c.field === field)?.label ?? field;
  if (field === "CREATED_AT") return `${label}, ${direction === "DESC" ? "newest" : "oldest"} first`;
  return `${label}, ${direction === "ASC" ? "A to Z" : "Z to A"}`;
}

/** What the query string asks for, with anything unknown left at its default. */
function listOptions(query: URLSearchParams, known: UserStatus[]) {
  const search = (query.get("q") ?? "").trim();
  const statuses = (query.get("status") ?? "")
    .split(",")
    .filter((s): s is UserStatus => (known as string[]).includes(s));
  const sortParam = query.get("sort") as SortField | null;
  const field: SortField = sortParam && SORT_FIELDS.includes(sortParam) ? sortParam : "CREATED_AT";
  const dirParam = query.get("dir");
  const direction: Direction = dirParam === "ASC" || dirParam === "DESC" ? dirParam : firstDirection(field);
  const sizeParam = Number(query.get("size"));
  const size = PAGE_SIZES.includes(sizeParam) ? sizeParam : DEFAULT_SIZE;
  return { search, statuses, field, direction, size };
}

/** GET /users.csv for what the list shows: the same search, statuses and order, every page. */
function exportAddress(search: string, statuses: UserStatus[], field: SortField, direction: Direction): string {
  const query = new URLSearchParams();
  if (search) query.set("search", search);
  for (const status of statuses) query.append("status", status);
  query.set("sort", field);
  query.set("direction", direction);
  return `/users.csv?${query}`;
}

export function UsersPage() {
  const caller = useCaller();
  const mayImport = can(caller, "import");
  const known = caller.statuses.map((d) => d.status);
  const { search, statuses, field, direction, size } = listOptions(location$.value.query, known);
  const filtered = search !== "" || statuses.length > 0;

  useEffect(() => rememberListAddress(location.pathname + location.search));

  // The search box: what is typed shows at once; the list follows after a pause.
  // The pause starts at the keystroke itself (not in an effect, a frame later).
  const [text, setText] = useState(search);
  const sent = useRef(search);
  const pause = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const type = (typed: string) => {
    setText(typed);
    clearTimeout(pause.current);
    const value = typed.trim();
    if (value === sent.current) return;
    pause.current = setTimeout(() => {
      sent.current = value;
      setQuery({ q: value || null });
    }, DEBOUNCE_MS);
  };
  useEffect(() => () => clearTimeout(pause.current), []);
  useEffect(() => {
    // The address changed otherwise (back, forward, "Clear"): the box follows it.
    if (search !== sent.current) {
      sent.current = search;
      setText(search);
    }
  }, [search]);

  // Keyset paging: a new search, filter, order or page size starts again at the first page.
  const pages = useCursors(JSON.stringify([search, statuses, field, direction, size]));

  // Users ticked for a bulk action (administrators only); a new list starts with none.
  const mayManage = can(caller, "manageUsers");
  const [selected, setSelected] = useState<string[]>([]);
  const listKey = JSON.stringify([search, statuses]);
  useEffect(() => setSelected([]), [listKey]);

  const [result, reexecute] = useQuery<UserList>({
    query: usersQuery,
    variables: {
      search: search || null,
      status: statuses.length ? statuses : null,
      first: size,
      after: pages.after,
      sort: { field, direction },
    },
  });
  // While the next results come, urql keeps the last ones: shown, marked busy, not paged from.
  const data = result.data;
  const fresh = data !== undefined && !result.fetching;

  const sortBy = (next: SortField) => {
    const nextDirection = next === field ? (direction === "ASC" ? "DESC" : "ASC") : firstDirection(next);
    const isDefault = next === "CREATED_AT" && nextDirection === "DESC";
    setQuery({ sort: isDefault ? null : next, dir: isDefault ? null : nextDirection });
  };
  const toggleStatus = (status: UserStatus, on: boolean) => {
    const next = known.filter((s) => (s === status ? on : statuses.includes(s)));
    setQuery({ status: next.join(",") || null });
  };
  const clearAll = () => {
    clearTimeout(pause.current);
    sent.current = "";
    setText("");
    setQuery({ q: null, status: null });
  };

  const header = (
    <div class="page-header">
      <h1 tabIndex={-1}>User Management</h1>
      <ExportButton url={exportAddress(search, statuses, field, direction)} filename="users.csv" holds="every user listed" />
      {mayImport && (
        <Link class="button primary" href="/imports/new">
          Import Users
        </Link>
      )}
    </div>
  );

  if (!data && !result.error) {
    return (
      <section class="users">
        {header}
        <p class="loading" role="status">
          Loading users…
        </p>
      </section>
    );
  }

  if (data && data.users.totalCount === 0 && !filtered && pages.after === null) {
    return (
      <section class="users">
        {header}
        <section class="empty users-empty" aria-labelledby="no-users-title">
          <h2 id="no-users-title">No users yet</h2>
          {mayImport ? (
            <>
              <p>Bring your people in from a CSV file: download the template, fill it in and upload it.</p>
              <Link class="button primary" href="/imports/new">
                Import Users
              </Link>
            </>
          ) : (
            <p>Users appear here once an administrator adds them with Import Users.</p>
          )}
        </section>
      </section>
    );
  }

  return (
    <section class="users">
      {header}
      <div class="users-toolbar">
        <form
          role="search"
          aria-label="Users"
          class="users-search"
          onSubmit={(event) => {
            event.preventDefault();
            sent.current = text.trim();
            setQuery({ q: sent.current || null });
          }}
        >
          <label for="user-search">Search users</label>
          <input
            id="user-search"
            type="search"
            value={text}
            maxLength={MAX_SEARCH_LENGTH}
            autoComplete="off"
            spellcheck={false}
            aria-describedby="user-search-hint"
            onInput={(event) => type(event.currentTarget.value)}
          />
          <p class="hint" id="user-search-hint">
            By name, access email or username; accents and capitals do not matter.
          </p>
        </form>
        <fieldset class="users-status-filter">
          <legend>Status</legend>
          {caller.statuses.map((definition) => (
            <label key={definition.status} class="check" title={definition.meaning}>
              <input
                type="checkbox"
                name="status"
                value={definition.status}
                checked={statuses.includes(definition.status)}
                onChange={(event) => toggleStatus(definition.status, event.currentTarget.checked)}
              />
              {statusLabel(definition.status)}
              {definition.legacy && " (legacy)"}
            </label>
          ))}
        </fieldset>
      </div>

      {data && mayManage && (
        <BulkActions
          selected={selected}
          pageIds={data.users.edges.map(({ node }) => node.id)}
          onSelect={setSelected}
          matching={data.users.totalCount}
          search={search}
          statuses={statuses}
          onDone={() => reexecute({ requestPolicy: "network-only" })}
        />
      )}
      {data ? (
        <Results
          selection={mayManage ? { selected, onChange: setSelected } : null}
          data={data}
          filtered={filtered}
          search={search}
          statuses={statuses}
          field={field}
          direction={direction}
          size={size}
          pages={pages}
          busy={result.fetching || result.stale}
          fresh={fresh}
          onSort={sortBy}
          onClear={clearAll}
        />
      ) : (
        <ProblemMessage error={result.error} />
      )}
    </section>
  );
}

type Selection = { selected: string[]; onChange: (ids: string[]) => void };

type ResultsProps = {
  /** Checkboxes to tick users for a bulk action, for administrators. */
  selection: Selection | null;
  data: UserList;
  filtered: boolean;
  search: string;
  statuses: UserStatus[];
  field: SortField;
  direction: Direction;
  size: number;
  pages: Cursors;
  busy: boolean;
  /** The results shown are those asked for: only then can they be paged from. */
  fresh: boolean;
  onSort: (field: SortField) => void;
  onClear: () => void;
};

/** The count, the table (or the "no users match" state) and the pager. */
function Results(props: ResultsProps) {
  const { data, filtered, search, statuses, field, direction, size, pages, busy, fresh } = props;
  const { totalCount, pageInfo, edges } = data.users;
  const pageNumber = pages.pageNumber;
  const firstRow = (pageNumber - 1) * size + 1;
  const lastRow = (pageNumber - 1) * size + edges.length;
  const goNext = () => fresh && pageInfo.hasNextPage && pages.next(pageInfo.endCursor);
  const goPrevious = () => fresh && pages.previous();
  const selection = props.selection;
  const ticked = new Set(selection?.selected ?? []);
  const tick = (ids: string[], on: boolean) => {
    if (!selection) return;
    const rest = selection.selected.filter((id) => !ids.includes(id));
    selection.onChange(on ? [...rest, ...ids] : rest);
  };
  return (
    <>
      <p class="users-count" role="status">
        {filtered ? `${plural(totalCount, "user")} found` : plural(totalCount, "user")}
        {busy && <span class="users-updating"> · updating…</span>}
      </p>

      {totalCount === 0 ? (
        <section class="empty users-no-match" aria-labelledby="no-match-title">
          <h2 id="no-match-title">No users match</h2>
          <p>
            {search && (
              <>
                Nobody's name, access email or username contains “{search}”
                {statuses.length > 0 ? " among the " : "."}
              </>
            )}
            {!search && statuses.length > 0 && "There are no "}
            {statuses.length > 0 && `${statuses.map(statusLabel).join(", ")} users.`}
          </p>
          <button type="button" onClick={props.onClear}>
            Clear search and filters
          </button>
        </section>
      ) : (
        <div class="table-scroll">
          <table class="users-table" aria-busy={busy}>
            <caption class="visually-hidden">
              Users, sorted by {describeOrder(field, direction)}
            </caption>
            <thead>
              <tr>
                {COLUMNS.map((column) => {
                  const sorted = column.field === field;
                  return (
                    <th
                      key={column.field}
                      scope="col"
                      aria-sort={sorted ? (direction === "ASC" ? "ascending" : "descending") : undefined}
                    >
                      <button type="button" class="sort" onClick={() => props.onSort(column.field)}>
                        {column.label}
                      </button>
                    </th>
                  );
                })}
              </tr>
            </thead>
            <tbody>
              {edges.map(({ node }) => (
                <tr key={node.id}>
                  <td>
                    {selection && (
                      <input
                        type="checkbox"
                        class="select-user"
                        aria-label={`Select ${shownName(node)}`}
                        checked={ticked.has(node.id)}
                        onChange={(event) => tick([node.id], event.currentTarget.checked)}
                      />
                    )}
                    <Link href={`/users/${encodeURIComponent(node.id)}`}>{shownName(node)}</Link>
                  </td>
                  <td>{shownValue(node.email, node.status)}</td>
                  <td>{shownValue(node.username, node.status)}</td>
                  <td>
                    <Moment iso={node.createdAt} />
                  </td>
                  <td>
                    <StatusBadge status={node.status} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {totalCount > 0 && (
      <div class="users-pager">
        <Pager
          label="Pages"
          previousLabel="Previous"
          nextLabel="Next"
          hasPrevious={pages.hasPrevious}
          hasNext={pageInfo.hasNextPage}
          onPrevious={goPrevious}
          onNext={goNext}
        >
          Page {formatNumber(pageNumber)}
          {edges.length > 0 &&
            ` · ${formatNumber(firstRow)}–${formatNumber(lastRow)} of ${formatNumber(totalCount)}`}
        </Pager>
        <div class="page-size">
          <label for="page-size">Rows per page</label>
          <select
            id="page-size"
            value={String(size)}
            onChange={(event) => {
              const value = Number(event.currentTarget.value);
              setQuery({ size: value === DEFAULT_SIZE ? null : String(value) });
            }}
          >
            {PAGE_SIZES.map((n) => (
              <option key={n} value={String(n)}>
                {n}
              </option>
            ))}
          </select>
        </div>
      </div>
      )}
    </>
  );
}
