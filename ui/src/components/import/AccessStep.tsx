// Step 4, access: how the new users receive permissions, saved with setImportAccess:
// "Assign Groups" (the same existing groups for every row), "Mirror User" (every row gets
// one existing user's groups and permissions as they are when the commit starts), or
// "Customize individually" (groups and permissions row by row; rows left empty get none).
// Then "Create users" (commitImport), which asks first when rows with errors would be excluded.
import type { Client, CombinedError } from "@urql/core";
import { useClient, useMutation, useQuery } from "@urql/preact";
import { useEffect, useState } from "preact/hooks";
import { Confirm } from "../Confirm";
import { describeError } from "../Problem";
import { formatNumber, plural } from "../format";
import commitMutation from "../../operations/import/CommitImport.graphql?raw";
import findUsersQuery from "../../operations/import/FindMirrorUser.graphql?raw";
import groupsQuery from "../../operations/import/ImportGroups.graphql?raw";
import rowAccessQuery from "../../operations/import/ImportRowAccess.graphql?raw";
import mirroredUserQuery from "../../operations/import/MirroredUser.graphql?raw";
import setAccessMutation from "../../operations/import/SetImportAccess.graphql?raw";
import type { AccessMode, Batch, Connection, Group, Progress } from "./types";
import { Pager, useCursors } from "../Pager";

type Outcome = { __typename: string; code?: string; message?: string };
type MirrorUser = {
  id: string;
  name: string;
  email: string;
  username: string;
  access: { effectivePermissions: string[]; groups: { id: string; name: string }[] };
};
type AccessRow = {
  rowNumber: number;
  firstName: string;
  lastName: string;
  email: string;
  access: { groupIds: string[]; permissions: string[] } | null;
};
/** A row's access as typed in the Customize table: permissions as the text of their input. */
type RowChoice = { groupIds: string[]; permissions: string };

const MODES: { value: AccessMode; label: string; hint: string }[] = [
  { value: "ASSIGN_GROUPS", label: "Assign Groups", hint: "Every new user gets the same groups." },
  {
    value: "MIRROR_USER",
    label: "Mirror User",
    hint: "Every new user gets the groups and permissions of one existing user, as they are when the users are created.",
  },
  {
    value: "CUSTOMIZE",
    label: "Customize individually",
    hint: "Choose groups and permissions row by row; a row left empty gets none.",
  },
];

const CUSTOM_PAGE = 100;

type Props = { batch: Batch; progress: Progress; onCommitted: () => void };

export function AccessStep({ batch, progress, onCommitted }: Props) {
  const saved = batch.access;
  const client = useClient();
  const [mode, setMode] = useState<AccessMode | null>(saved?.mode ?? null);
  const [groupIds, setGroupIds] = useState<string[]>(saved?.mode === "ASSIGN_GROUPS" ? saved.groupIds : []);
  const [mirror, setMirror] = useState<MirrorUser | null>(null);
  const [custom, setCustom] = useState<Map<number, RowChoice>>(new Map());
  const [problem, setProblem] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);

  const [groupsResult] = useQuery<{ groups: Group[] }>({ query: groupsQuery });
  const groups = groupsResult.data?.groups ?? [];
  const [mirrored] = useQuery<{ user: MirrorUser | null }>({
    query: mirroredUserQuery,
    variables: { id: saved?.mirrorUserId ?? "" },
    pause: !saved?.mirrorUserId,
  });
  useEffect(() => {
    if (mirrored.data?.user && mirror === null) setMirror(mirrored.data.user);
  }, [mirrored.data]);

  const [, setAccess] = useMutation<{ setImportAccess: Outcome }>(setAccessMutation);
  const [, commit] = useMutation<{ commitImport: Outcome }>(commitMutation);

  /** Saves the access shown; true when the server took it. */
  async function save(): Promise<boolean> {
    setProblem(null);
    setNotice(null);
    if (mode === null) {
      setProblem("Choose how the new users get access: Assign Groups, Mirror User or Customize individually.");
      return false;
    }
    if (mode === "MIRROR_USER" && !mirror) {
      setProblem("Find the user whose access to mirror, and pick them in the list.");
      return false;
    }
    let access: Record<string, unknown>;
    if (mode === "ASSIGN_GROUPS") access = { mode, groupIds };
    else if (mode === "MIRROR_USER") access = { mode, mirrorUserId: mirror!.id };
    else {
      const rows = await customRows(client, batch.id, custom);
      if (typeof rows === "string") {
        setProblem(rows);
        return false;
      }
      access = { mode, rows };
    }
    const result = await setAccess({ batchId: batch.id, access });
    const outcome = result.data?.setImportAccess;
    if (outcome?.__typename === "ImportBatch") {
      setNotice("Access saved.");
      return true;
    }
    setProblem(outcome?.message ?? (result.error ? describeError(result.error) : "The access could not be saved."));
    return false;
  }

  async function run(action: () => Promise<unknown>) {
    if (busy) return;
    setBusy(true);
    try {
      await action();
    } finally {
      setBusy(false);
    }
  }

  async function createUsers() {
    if (!(await save())) return;
    if (progress.valid === 0) {
      setProblem("No row is valid, so there is nobody to create. Correct or include rows in the review first.");
      return;
    }
    if (progress.invalid > 0) setConfirming(true);
    else await commitNow(false);
  }

  async function commitNow(excludeInvalidRows: boolean) {
    const result = await commit({ batchId: batch.id, excludeInvalidRows });
    setConfirming(false);
    const outcome = result.data?.commitImport;
    if (outcome?.__typename === "ImportBatch") onCommitted();
    else setProblem(outcome?.message ?? (result.error ? describeError(result.error) : "The users could not be created."));
  }

  return (
    <div class="access-step">
      <fieldset class="access-modes">
        <legend>How do the new users get access?</legend>
        {MODES.map((m) => (
          <div key={m.value} class="access-mode">
            <input
              type="radio"
              name="access-mode"
              id={`mode-${m.value}`}
              value={m.value}
              checked={mode === m.value}
              aria-describedby={`mode-${m.value}-hint`}
              onChange={() => {
                setMode(m.value);
                setNotice(null);
                setProblem(null);
              }}
            />
            <label for={`mode-${m.value}`}>{m.label}</label>
            <p class="hint" id={`mode-${m.value}-hint`}>
              {m.hint}
            </p>
          </div>
        ))}
      </fieldset>

      {mode === "ASSIGN_GROUPS" && (
        <AssignGroups groups={groups} loading={groupsResult.fetching} chosen={groupIds} onChange={setGroupIds} />
      )}
      {mode === "MIRROR_USER" && <MirrorUserPicker picked={mirror} onPick={setMirror} />}
      {mode === "CUSTOMIZE" && (
        <CustomizeTable batchId={batch.id} groups={groups} choices={custom} onChange={setCustom} />
      )}

      {problem && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
      <p role="status" class="access-notice">
        {notice}
      </p>

      <div class="create-users">
        <p>
          {plural(progress.valid, "user")} will be created
          {progress.invalid > 0 && (
            <>
              ; <strong>{plural(progress.invalid, "row has", "rows have")} errors</strong> and will be excluded unless
              corrected
            </>
          )}
          {progress.excluded > 0 && <>; {plural(progress.excluded, "row")} excluded</>}. Each new user gets an invitation
          at their access email and stays Pending until they accept it.
        </p>
        <div class="actions">
          <button type="button" disabled={busy} onClick={() => void run(save)}>
            Save access
          </button>
          <button type="button" class="primary" disabled={busy} onClick={() => void run(createUsers)}>
            Create users
          </button>
        </div>
      </div>

      {confirming && (
        <Confirm
          title="Exclude the rows with errors?"
          confirmLabel="Exclude them and create users"
          busy={busy}
          onCancel={() => setConfirming(false)}
          onConfirm={() => void run(() => commitNow(true))}
        >
          <p>
            <strong>{plural(progress.invalid, "row has", "rows have")} errors and will be excluded.</strong> The other{" "}
            {plural(progress.valid, "row")} will be registered. To keep a row, cancel and correct it in the review.
          </p>
        </Confirm>
      )}
    </div>
  );
}

function AssignGroups(props: {
  groups: Group[];
  loading: boolean;
  chosen: string[];
  onChange: (ids: string[]) => void;
}) {
  const { groups, chosen, onChange } = props;
  return (
    <fieldset class="access-panel">
      <legend>Groups for every new user</legend>
      {groups.length === 0 && !props.loading && (
        <p class="hint">No group exists yet: the new users will get no groups.</p>
      )}
      <ul class="group-choices">
        {groups.map((group) => (
          <li key={group.id}>
            <input
              type="checkbox"
              id={`group-${group.id}`}
              checked={chosen.includes(group.id)}
              aria-describedby={`group-${group.id}-permissions`}
              onChange={(event) =>
                onChange(
                  event.currentTarget.checked ? [...chosen, group.id] : chosen.filter((id) => id !== group.id),
                )
              }
            />
            <label for={`group-${group.id}`}>{group.name}</label>
            <span class="hint" id={`group-${group.id}-permissions`}>
              {group.permissions.length > 0 ? group.permissions.join(", ") : "no permissions"}
            </span>
          </li>
        ))}
      </ul>
      {groups.length > 0 && chosen.length === 0 && (
        <p class="hint">No group chosen: the new users will get no groups.</p>
      )}
    </fieldset>
  );
}

function MirrorUserPicker({ picked, onPick }: { picked: MirrorUser | null; onPick: (user: MirrorUser) => void }) {
  const [typed, setTyped] = useState("");
  const [search, setSearch] = useState("");
  useEffect(() => {
    const timer = setTimeout(() => setSearch(typed.trim()), 250);
    return () => clearTimeout(timer);
  }, [typed]);
  const [{ data, fetching, error }] = useQuery<{ users: Connection<MirrorUser> }>({
    query: findUsersQuery,
    variables: { search },
    pause: search.length < 2,
  });
  const found = search.length >= 2 ? (data?.users.edges.map((e) => e.node) ?? []) : [];
  return (
    <div class="access-panel">
      <label for="mirror-search">Find a user by name or email</label>
      <input
        id="mirror-search"
        type="search"
        value={typed}
        autoComplete="off"
        aria-describedby="mirror-search-hint"
        onInput={(event) => setTyped(event.currentTarget.value)}
      />
      <p class="hint" id="mirror-search-hint">
        Type at least two letters of their name, email or username.
      </p>
      {error && (
        <p class="problem" role="alert">
          {describeError(error)}
        </p>
      )}
      {search.length >= 2 && (
        <fieldset class="mirror-results" aria-busy={fetching ? "true" : "false"}>
          <legend>Users found</legend>
          {!fetching && found.length === 0 && <p class="hint">No user matches “{search}”.</p>}
          <ul>
            {found.map((user) => (
              <li key={user.id}>
                <input
                  type="radio"
                  name="mirror-user"
                  id={`mirror-${user.id}`}
                  checked={picked?.id === user.id}
                  onChange={() => onPick(user)}
                />
                <label for={`mirror-${user.id}`}>
                  {user.name} ({user.email})
                </label>
              </li>
            ))}
          </ul>
          {data && data.users.totalCount > found.length && (
            <p class="hint">
              {formatNumber(data.users.totalCount - found.length)} more match: type more of the name or email.
            </p>
          )}
        </fieldset>
      )}
      <p class="mirror-picked" aria-live="polite">
        {picked ? (
          <>
            Mirroring <strong>{picked.name}</strong> ({picked.email}): groups{" "}
            {picked.access.groups.length > 0 ? picked.access.groups.map((g) => g.name).join(", ") : "none"}; permissions{" "}
            {picked.access.effectivePermissions.length > 0 ? picked.access.effectivePermissions.join(", ") : "none"}.
          </>
        ) : (
          "No user picked yet."
        )}
      </p>
    </div>
  );
}

function CustomizeTable(props: {
  batchId: string;
  groups: Group[];
  choices: Map<number, RowChoice>;
  onChange: (choices: Map<number, RowChoice>) => void;
}) {
  const { batchId, groups, choices, onChange } = props;
  const pages = useCursors();
  const [{ data, fetching, error }] = useQuery<{ importBatch: { rows: Connection<AccessRow> } | null }>({
    query: rowAccessQuery,
    variables: { id: batchId, first: CUSTOM_PAGE, after: pages.after },
    requestPolicy: "network-only",
  });
  const connection = data?.importBatch?.rows;
  const rows = connection?.edges.map((e) => e.node) ?? [];
  const choiceOf = (row: AccessRow): RowChoice => choices.get(row.rowNumber) ?? baseline(row);
  const set = (row: AccessRow, choice: RowChoice) => onChange(new Map(choices).set(row.rowNumber, choice));
  const first = (pages.pageNumber - 1) * CUSTOM_PAGE + 1;

  return (
    <div class="access-panel">
      <p class="hint">
        The valid rows, each with its groups and its own permissions (separated by commas). Rows with errors get
        access once corrected.
      </p>
      {error && (
        <p class="problem" role="alert">
          {describeError(error)}
        </p>
      )}
      <div class="table-scroll">
        <table class="customize-table">
          <caption class="visually-hidden">Access of each new user</caption>
          <thead>
            <tr>
              <th scope="col">Row</th>
              <th scope="col">Name</th>
              <th scope="col">Access Email</th>
              {groups.map((group) => (
                <th key={group.id} scope="col">
                  {group.name}
                </th>
              ))}
              <th scope="col">Permissions</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => {
              const choice = choiceOf(row);
              return (
                <tr key={row.rowNumber}>
                  <th scope="row">{row.rowNumber}</th>
                  <td>
                    {row.firstName} {row.lastName}
                  </td>
                  <td>{row.email}</td>
                  {groups.map((group) => (
                    <td key={group.id} class="group-cell">
                      <input
                        type="checkbox"
                        aria-label={`${group.name} for row ${row.rowNumber}`}
                        checked={choice.groupIds.includes(group.id)}
                        onChange={(event) =>
                          set(row, {
                            ...choice,
                            groupIds: event.currentTarget.checked
                              ? [...choice.groupIds, group.id]
                              : choice.groupIds.filter((id) => id !== group.id),
                          })
                        }
                      />
                    </td>
                  ))}
                  <td>
                    <input
                      class="permissions-input"
                      aria-label={`Permissions for row ${row.rowNumber}`}
                      value={choice.permissions}
                      placeholder="e.g. reports.read"
                      onInput={(event) => set(row, { ...choice, permissions: event.currentTarget.value })}
                    />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {connection && rows.length === 0 && <p class="empty">No row is valid yet.</p>}
      {connection && (connection.pageInfo.hasNextPage || pages.hasPrevious) && (
        <Pager
          label="Pages of new users"
          hasPrevious={pages.hasPrevious}
          hasNext={connection.pageInfo.hasNextPage}
          busy={fetching}
          onPrevious={pages.previous}
          onNext={() => pages.next(connection.pageInfo.endCursor)}
        >
          Rows {formatNumber(first)}–{formatNumber(first + rows.length - 1)} of {formatNumber(connection.totalCount)}
        </Pager>
      )}
    </div>
  );
}

function baseline(row: AccessRow): RowChoice {
  return { groupIds: row.access?.groupIds ?? [], permissions: (row.access?.permissions ?? []).join(", ") };
}

function permissionsOf(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((p) => p.trim())
    .filter(Boolean);
}

/** Every valid row's access for CUSTOMIZE: what was typed, else what the row has now (all
 * pages, not only the one shown: rows not listed would get nothing). A message on failure. */
async function customRows(
  client: Client,
  batchId: string,
  choices: Map<number, RowChoice>,
): Promise<{ rowNumber: number; groupIds: string[]; permissions: string[] }[] | string> {
  const rows: { rowNumber: number; groupIds: string[]; permissions: string[] }[] = [];
  type Page = { data?: { importBatch: { rows: Connection<AccessRow> } | null }; error?: CombinedError };
  let after: string | null = null;
  for (;;) {
    const result: Page = await client
      .query<{ importBatch: { rows: Connection<AccessRow> } | null }>(
        rowAccessQuery,
        { id: batchId, first: 500, after },
        { requestPolicy: "network-only" },
      )
      .toPromise();
    const page: Connection<AccessRow> | undefined = result.data?.importBatch?.rows ?? undefined;
    if (!page) return result.error ? describeError(result.error) : "The rows could not be read.";
    for (const { node } of page.edges) {
      const choice = choices.get(node.rowNumber) ?? baseline(node);
      const permissions = permissionsOf(choice.permissions);
      if (choice.groupIds.length > 0 || permissions.length > 0)
        rows.push({ rowNumber: node.rowNumber, groupIds: choice.groupIds, permissions });
    }
    if (!page.pageInfo.hasNextPage) return rows;
    after = page.pageInfo.endCursor;
  }
}
