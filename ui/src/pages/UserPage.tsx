// A user's page: details, invitation, groups and permissions, the status history as a
// timeline (administrators and auditors), and the lifecycle actions an administrator may take
// in the user's present status.
import type { CombinedError } from "@urql/core";
import { useMutation, useQuery } from "@urql/preact";
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { type UserStatus, can, useCaller } from "../caller";
import { errorCodes } from "../client";
import type { StatusChange } from "../components/audit/ChangesTable";
import { Confirm } from "../components/Confirm";
import { ProblemMessage, type ProblemShape, isProblem } from "../components/Problem";
import { StatusBadge, statusLabel } from "../components/StatusBadge";
import { formatDateTime } from "../components/format";
import { shownName, shownValue } from "../components/users/erased";
import {
  DEACTIVATE_FROM,
  ERASE_FROM,
  MAX_REASON_LENGTH,
  REACTIVATE_FROM,
  RESEND_FROM,
  SOURCE_NAMES,
} from "../components/users/lifecycle";
import { listAddress } from "../components/users/listAddress";
import { Moment } from "../components/users/Moment";
import deactivateMutation from "../operations/users/deactivateUser.graphql?raw";
import eraseMutation from "../operations/users/eraseUser.graphql?raw";
import groupsQuery from "../operations/users/groups.graphql?raw";
import reactivateMutation from "../operations/users/reactivateUser.graphql?raw";
import resendMutation from "../operations/users/resendInvitation.graphql?raw";
import setAccessMutation from "../operations/users/setUserAccess.graphql?raw";
import userQuery from "../operations/users/user.graphql?raw";
import historyQuery from "../operations/users/userStatusHistory.graphql?raw";
import { Link } from "../router";
import "./UserPage.css";

type GroupRef = { id: string; name: string; permissions: string[] };
type Invitation = {
  issuedAt: string;
  expiresAt: string;
  sentAt: string | null;
  acceptedAt: string | null;
  deliveryFailedAt: string | null;
  deliveryError: string | null;
};
type User = {
  id: string;
  firstName: string;
  lastName: string;
  name: string;
  email: string;
  username: string;
  createdAt: string;
  status: UserStatus;
  statusChangedAt: string;
  importBatchId: string | null;
  invitation: Invitation | null;
  access: { permissions: string[]; effectivePermissions: string[]; groups: GroupRef[] };
};
/** A change of this user's history (the feed's change, without the user's id). */
type Change = Omit<StatusChange, "userId">;
type Outcome = { __typename: "User"; id: string; status: UserStatus } | (ProblemShape & { __typename: string });

export function UserPage({ id }: { id: string }) {
  const caller = useCaller();
  const mayAudit = can(caller, "audit");
  const mayManage = can(caller, "manageUsers");
  const [userResult, refetchUser] = useQuery<{ user: User | null }>({ query: userQuery, variables: { id } });
  // Only administrators and auditors may read the history: others do not ask for it.
  const [historyResult, refetchHistory] = useQuery<{ userStatusHistory: Change[] }>({
    query: historyQuery,
    variables: { userId: id },
    pause: !mayAudit,
  });
  const refresh = () => {
    refetchUser({ requestPolicy: "network-only" });
    if (mayAudit) refetchHistory({ requestPolicy: "network-only" });
  };

  // navigate() focuses the new screen's heading, but this one comes with the data: focus it
  // then, unless the person has moved on already.
  const loaded = userResult.data !== undefined || userResult.error !== undefined;
  useEffect(() => {
    const active = document.activeElement;
    if (loaded && (active === null || active === document.body)) {
      document.querySelector<HTMLElement>("main h1")?.focus();
    }
  }, [loaded]);

  const user = userResult.data?.user;
  const back = (
    <nav aria-label="Breadcrumb" class="breadcrumb">
      <Link href={listAddress()}>User Management</Link>
    </nav>
  );
  if (userResult.data === undefined && !userResult.error) {
    return (
      <section class="user-page">
        {back}
        <p class="loading" role="status">
          Loading the user…
        </p>
      </section>
    );
  }
  // An id that is not a user's (or not an id at all) is a user that does not exist.
  const notAnId = errorCodes(userResult.error).includes("BAD_USER_INPUT");
  if (!user && (userResult.data || notAnId)) {
    return (
      <section class="user-page">
        {back}
        <h1 tabIndex={-1}>User not found</h1>
        <p>
          No user has the id <code>{id}</code>. The link may be mistyped, or from another Roster.
        </p>
        <p>
          <Link href="/users">Back to User Management</Link>
        </p>
      </section>
    );
  }
  if (!user) {
    return (
      <section class="user-page">
        {back}
        <h1 tabIndex={-1}>User</h1>
        <ProblemMessage error={userResult.error} />
      </section>
    );
  }

  const history = historyResult.data?.userStatusHistory;
  return (
    <section class="user-page">
      {back}
      <div class="page-header">
        <h1 tabIndex={-1}>{shownName(user)}</h1>
        <StatusBadge status={user.status} />
      </div>
      {userResult.error && <ProblemMessage error={userResult.error} />}
      {mayManage && <Actions user={user} history={history} onChanged={refresh} />}
      <div class="user-columns">
        <div>
          <Details user={user} mayOpenBatch={can(caller, "import")} />
          <InvitationDetails invitation={user.invitation} />
          <AccessDetails user={user} />
        </div>
        <section aria-labelledby="history-title" class="user-history">
          <h2 id="history-title">Status history</h2>
          {!mayAudit ? (
            <p class="notice">The status history is visible to administrators and auditors.</p>
          ) : history ? (
            <Timeline changes={history} user={user} />
          ) : historyResult.error ? (
            <ProblemMessage error={historyResult.error} />
          ) : (
            <p class="loading" role="status">
              Loading the history…
            </p>
          )}
        </section>
      </div>
    </section>
  );
}

function Row({ term, children }: { term: string; children: ComponentChildren }) {
  return (
    <div class="row">
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function Details({ user, mayOpenBatch }: { user: User; mayOpenBatch: boolean }) {
  return (
    <section aria-labelledby="details-title">
      <h2 id="details-title">Details</h2>
      <dl class="facts">
        <Row term="Name">{shownName(user)}</Row>
        <Row term="Access Email">{shownValue(user.email, user.status)}</Row>
        <Row term="Username">{shownValue(user.username, user.status)}</Row>
        <Row term="Creation Date">
          <Moment iso={user.createdAt} withTime />
        </Row>
        <Row term="Status">
          <StatusBadge status={user.status} />
        </Row>
        <Row term="Status since">
          <Moment iso={user.statusChangedAt} withTime />
        </Row>
        {user.importBatchId && (
          <Row term="Import batch">
            {mayOpenBatch ? (
              <Link href={`/imports/${encodeURIComponent(user.importBatchId)}`}>Open the import batch</Link>
            ) : (
              <code>{user.importBatchId}</code>
            )}
          </Row>
        )}
      </dl>
    </section>
  );
}

function InvitationDetails({ invitation }: { invitation: Invitation | null }) {
  return (
    <section aria-labelledby="invitation-title">
      <h2 id="invitation-title">Invitation</h2>
      {!invitation ? (
        <p>No invitation is open for this user.</p>
      ) : (
        <dl class="facts">
          <Row term="Issued">
            <Moment iso={invitation.issuedAt} withTime />
          </Row>
          <Row term="Expires">
            <Moment iso={invitation.expiresAt} withTime />
          </Row>
          <Row term="Sent">{invitation.sentAt ? <Moment iso={invitation.sentAt} withTime /> : "Not sent yet"}</Row>
          <Row term="Accepted">
            {invitation.acceptedAt ? <Moment iso={invitation.acceptedAt} withTime /> : "Not accepted yet"}
          </Row>
          {invitation.deliveryFailedAt && (
            <Row term="Delivery failure">
              <span class="delivery-failure">
                <Moment iso={invitation.deliveryFailedAt} withTime />: {invitation.deliveryError}
              </span>
            </Row>
          )}
        </dl>
      )}
    </section>
  );
}

function PermissionList({ permissions, label }: { permissions: string[]; label: string }) {
  if (permissions.length === 0) return <p class="none">None</p>;
  return (
    <ul class="permissions" aria-label={label}>
      {permissions.map((p) => (
        <li key={p}>
          <code>{p}</code>
        </li>
      ))}
    </ul>
  );
}

function AccessDetails({ user }: { user: User }) {
  const { groups, permissions, effectivePermissions } = user.access;
  return (
    <section aria-labelledby="access-title">
      <h2 id="access-title">Groups and permissions</h2>
      <h3>Groups</h3>
      {groups.length === 0 ? (
        <p class="none">No groups</p>
      ) : (
        <ul class="groups" aria-label="Groups">
          {groups.map((g) => (
            <li key={g.id}>
              <strong>{g.name}</strong>
              {g.permissions.length > 0 && <span class="hint"> · {g.permissions.join(", ")}</span>}
            </li>
          ))}
        </ul>
      )}
      <h3>Direct permissions</h3>
      <PermissionList permissions={permissions} label="Direct permissions" />
      <h3>Effective permissions</h3>
      <p class="hint">Direct permissions and those of every group.</p>
      <PermissionList permissions={effectivePermissions} label="Effective permissions" />
    </section>
  );
}

function actorName(actor: string, user: User): string {
  if (actor === user.id) return `${shownName(user)} (the user)`;
  if (actor === "system") return "System";
  return actor;
}

function Timeline({ changes, user }: { changes: Change[]; user: User }) {
  if (changes.length === 0) return <p>No status changes are recorded.</p>;
  const newestFirst = [...changes].reverse();
  return (
    <>
      <p class="hint">Newest first.</p>
      <ol class="timeline" aria-label="Status changes, newest first">
        {newestFirst.map((change) => (
          <li key={change.version}>
            <p class="timeline-change">
              {change.from ? (
                <>
                  <StatusBadge status={change.from} />
                  <span aria-hidden="true"> → </span>
                  <span class="visually-hidden"> to </span>
                </>
              ) : (
                <span>Registered as </span>
              )}
              <StatusBadge status={change.to} />
            </p>
            <dl class="timeline-facts">
              <Row term="When">
                <Moment iso={change.at} withTime />
              </Row>
              <Row term="Who">{actorName(change.actor, user)}</Row>
              <Row term="Source">{SOURCE_NAMES[change.source] ?? change.source}</Row>
              {change.reason && <Row term="Reason">{change.reason}</Row>}
            </dl>
          </li>
        ))}
      </ol>
    </>
  );
}

// ------------------------------------------------------------------ actions

type Dialog = "deactivate" | "reactivate" | "resend" | "erase" | null;

function Actions({ user, history, onChanged }: { user: User; history?: Change[]; onChanged: () => void }) {
  const [dialog, setDialog] = useState<Dialog>(null);
  const [editing, setEditing] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const doneRef = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    if (done) doneRef.current?.focus();
  }, [done]);

  const finished = (message: string) => {
    setDialog(null);
    setEditing(false);
    setDone(message);
    onChanged();
  };
  const open = (which: Dialog) => {
    setDone(null);
    setDialog(which);
  };
  const hasAccepted =
    user.invitation?.acceptedAt != null || (history ?? []).some((change) => change.to === "ACTIVE");

  return (
    <section aria-labelledby="actions-title" class="user-actions">
      <h2 id="actions-title" class="visually-hidden">
        Actions
      </h2>
      {user.status === "ERASED" ? (
        <p class="notice">This user was erased: no action applies to them any more.</p>
      ) : (
        <div class="actions">
          {DEACTIVATE_FROM.includes(user.status) && (
            <button type="button" class="danger" onClick={() => open("deactivate")}>
              Deactivate
            </button>
          )}
          {REACTIVATE_FROM.includes(user.status) && (
            <button type="button" class="primary" onClick={() => open("reactivate")}>
              Reactivate
            </button>
          )}
          {RESEND_FROM.includes(user.status) && (
            <button type="button" onClick={() => open("resend")}>
              Resend invitation
            </button>
          )}
          <button
            type="button"
            aria-expanded={editing}
            aria-controls="change-access"
            onClick={() => {
              setDone(null);
              setEditing(!editing);
            }}
          >
            Change access
          </button>
          {ERASE_FROM.includes(user.status) && (
            <button type="button" class="danger" onClick={() => open("erase")}>
              Erase…
            </button>
          )}
        </div>
      )}
      {done && (
        <p class="success" role="status" tabIndex={-1} ref={doneRef}>
          {done}
        </p>
      )}
      {editing && (
        <ChangeAccess
          user={user}
          onCancel={() => setEditing(false)}
          onSaved={() => finished(`The access of ${user.name} was saved.`)}
        />
      )}
      {dialog === "deactivate" && (
        <StatusDialog
          user={user}
          mutation={deactivateMutation}
          field="deactivateUser"
          title={`Deactivate ${user.name}?`}
          confirmLabel="Deactivate"
          danger
          onCancel={() => setDialog(null)}
          onDone={(status) => finished(`${user.name} was deactivated: now ${statusLabel(status)}.`)}
          onProblem={onChanged}
        >
          <p>
            {user.name} loses access at once{user.invitation && !user.invitation.acceptedAt
              ? ", and their invitation link stops working"
              : ""}
            . Only an administrator can reactivate them.
          </p>
        </StatusDialog>
      )}
      {dialog === "reactivate" && (
        <StatusDialog
          user={user}
          mutation={reactivateMutation}
          field="reactivateUser"
          title={`Reactivate ${user.name}?`}
          confirmLabel="Reactivate"
          onCancel={() => setDialog(null)}
          onDone={(status) => finished(`${user.name} was reactivated: now ${statusLabel(status)}.`)}
          onProblem={onChanged}
        >
          <p>
            {hasAccepted
              ? `${user.name} accepted an invitation before, so they become Active again at once.`
              : `${user.name} never accepted an invitation: they become Pending, and a new invitation is mailed to ${user.email}.`}
          </p>
        </StatusDialog>
      )}
      {dialog === "resend" && (
        <ResendDialog
          user={user}
          onCancel={() => setDialog(null)}
          onDone={() => finished(`A new invitation was issued to ${user.email}.`)}
          onProblem={onChanged}
        />
      )}
      {dialog === "erase" && (
        <EraseDialog
          user={user}
          onCancel={() => setDialog(null)}
          onDone={() => finished("The user was erased. Their status history remains, showing them as erased.")}
          onProblem={onChanged}
        />
      )}
    </section>
  );
}

type StatusDialogProps = {
  user: User;
  mutation: string;
  field: "deactivateUser" | "reactivateUser";
  title: string;
  confirmLabel: string;
  danger?: boolean;
  children: ComponentChildren;
  onCancel: () => void;
  onDone: (status: UserStatus) => void;
  onProblem: () => void;
};

/** Deactivate or reactivate, after a confirmation that asks for an optional reason. */
function StatusDialog(props: StatusDialogProps) {
  const [reason, setReason] = useState("");
  const [problem, setProblem] = useState<ProblemShape | null>(null);
  const [error, setError] = useState<CombinedError | null>(null);
  const [state, run] = useMutation<Record<string, Outcome>>(props.mutation);
  const confirm = async () => {
    setProblem(null);
    setError(null);
    const result = await run({ userId: props.user.id, reason: reason.trim() || null });
    const outcome = result.data?.[props.field];
    if (outcome && !isProblem(outcome)) props.onDone(outcome.status);
    else if (outcome && isProblem(outcome)) {
      setProblem(outcome);
      props.onProblem();
    } else setError(result.error ?? null);
  };
  return (
    <Confirm
      title={props.title}
      confirmLabel={props.confirmLabel}
      danger={props.danger}
      busy={state.fetching}
      onConfirm={() => void confirm()}
      onCancel={props.onCancel}
    >
      {props.children}
      <label for="status-reason">Reason (optional)</label>
      <textarea
        id="status-reason"
        rows={3}
        maxLength={MAX_REASON_LENGTH}
        value={reason}
        aria-describedby="status-reason-hint"
        onInput={(event) => setReason(event.currentTarget.value)}
      />
      <p class="hint" id="status-reason-hint">
        Kept in the status history. {reason.length}/{MAX_REASON_LENGTH} characters.
      </p>
      <ProblemMessage problem={problem} error={error} />
    </Confirm>
  );
}

function ResendDialog(props: { user: User; onCancel: () => void; onDone: () => void; onProblem: () => void }) {
  const [problem, setProblem] = useState<ProblemShape | null>(null);
  const [error, setError] = useState<CombinedError | null>(null);
  const [state, run] = useMutation<{ resendInvitation: Outcome }>(resendMutation);
  const confirm = async () => {
    setProblem(null);
    setError(null);
    const result = await run({ userId: props.user.id });
    const outcome = result.data?.resendInvitation;
    if (outcome && !isProblem(outcome)) props.onDone();
    else if (outcome) {
      setProblem(outcome);
      props.onProblem();
    } else setError(result.error ?? null);
  };
  const invitation = props.user.invitation;
  return (
    <Confirm
      title="Resend the invitation?"
      confirmLabel="Resend invitation"
      busy={state.fetching}
      onConfirm={() => void confirm()}
      onCancel={props.onCancel}
    >
      <p>
        A new invitation is mailed to {props.user.email}
        {props.user.status === "EXPIRED" ? ", and the user becomes Pending again" : ""}.
        {invitation && ` The link of the invitation issued ${formatDateTime(invitation.issuedAt)} stops working.`}
      </p>
      <ProblemMessage problem={problem} error={error} />
    </Confirm>
  );
}

type EraseProps = { user: User; onCancel: () => void; onDone: () => void; onProblem: () => void };

/** Erase a person for good, after a required reason and their email typed again. */
function EraseDialog({ user, onCancel, onDone, onProblem }: EraseProps) {
  const [reason, setReason] = useState("");
  const [typed, setTyped] = useState("");
  const [problem, setProblem] = useState<ProblemShape | null>(null);
  const [error, setError] = useState<CombinedError | null>(null);
  const [state, run] = useMutation<{ eraseUser: Outcome }>(eraseMutation);
  const matches = typed.trim().toLowerCase() === user.email.toLowerCase();
  const ready = reason.trim() !== "" && matches;
  const confirm = async () => {
    setProblem(null);
    setError(null);
    const result = await run({ userId: user.id, reason: reason.trim() });
    const outcome = result.data?.eraseUser;
    if (outcome && !isProblem(outcome)) onDone();
    else if (outcome) {
      setProblem(outcome);
      onProblem();
    } else setError(result.error ?? null);
  };
  return (
    <Confirm
      title={`Erase ${user.name}?`}
      confirmLabel="Erase for good"
      danger
      busy={state.fetching}
      unready={!ready}
      onConfirm={() => void confirm()}
      onCancel={onCancel}
    >
      <p>
        Their name, email and username are erased everywhere for good; their status history stays, showing them as
        erased. This cannot be undone.
      </p>
      <label for="erase-reason">Reason (required)</label>
      <textarea
        id="erase-reason"
        rows={3}
        required
        maxLength={MAX_REASON_LENGTH}
        value={reason}
        aria-describedby="erase-reason-hint"
        onInput={(event) => setReason(event.currentTarget.value)}
      />
      <p class="hint" id="erase-reason-hint">
        Kept in the audit trail. {reason.length}/{MAX_REASON_LENGTH} characters.
      </p>
      <label for="erase-email">
        Type <strong>{user.email}</strong> to confirm
      </label>
      <input
        id="erase-email"
        type="text"
        required
        autoComplete="off"
        spellcheck={false}
        value={typed}
        aria-describedby="erase-email-hint"
        onInput={(event) => setTyped(event.currentTarget.value)}
      />
      <p class="hint" id="erase-email-hint">
        Capitals do not matter. Erase for good is enabled once a reason is given and the email matches.
      </p>
      <ProblemMessage problem={problem} error={error} />
    </Confirm>
  );
}

type Group = GroupRef & { memberCount: number };

/** Groups and direct permissions, chosen and saved with setUserAccess. */
function ChangeAccess({ user, onCancel, onSaved }: { user: User; onCancel: () => void; onSaved: () => void }) {
  const [groupsResult] = useQuery<{ groups: Group[] }>({ query: groupsQuery, requestPolicy: "network-only" });
  const [groupIds, setGroupIds] = useState<string[]>(user.access.groups.map((g) => g.id));
  const [permissions, setPermissions] = useState<string[]>(user.access.permissions);
  const [adding, setAdding] = useState("");
  const [problem, setProblem] = useState<ProblemShape | null>(null);
  const [error, setError] = useState<CombinedError | null>(null);
  const [state, run] = useMutation<{ setUserAccess: Outcome }>(setAccessMutation);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);

  const withAdded = (): string[] => {
    const value = adding.trim();
    return value && !permissions.includes(value) ? [...permissions, value] : permissions;
  };
  const add = () => {
    setPermissions(withAdded());
    setAdding("");
  };
  const save = async () => {
    setProblem(null);
    setError(null);
    const chosen = withAdded();
    setPermissions(chosen);
    setAdding("");
    const result = await run({ userId: user.id, access: { groupIds, permissions: chosen } });
    const outcome = result.data?.setUserAccess;
    if (outcome && !isProblem(outcome)) onSaved();
    else if (outcome) setProblem(outcome);
    else setError(result.error ?? null);
  };
  const groups = groupsResult.data?.groups;
  return (
    <form
      id="change-access"
      class="change-access"
      aria-labelledby="change-access-title"
      onSubmit={(event) => {
        event.preventDefault();
        void save();
      }}
    >
      <h3 id="change-access-title" tabIndex={-1} ref={heading}>
        Change access
      </h3>
      <fieldset>
        <legend>Groups</legend>
        {groups ? (
          groups.length === 0 ? (
            <p class="none">No groups exist yet.</p>
          ) : (
            groups.map((group) => (
              <label key={group.id} class="check">
                <input
                  type="checkbox"
                  checked={groupIds.includes(group.id)}
                  onChange={(event) => {
                    const on = event.currentTarget.checked;
                    setGroupIds(on ? [...groupIds, group.id] : groupIds.filter((g) => g !== group.id));
                  }}
                />
                {group.name}
                <span class="hint">
                  {group.permissions.length ? group.permissions.join(", ") : "no permissions"}
                </span>
              </label>
            ))
          )
        ) : groupsResult.error ? (
          <ProblemMessage error={groupsResult.error} />
        ) : (
          <p class="loading" role="status">
            Loading groups…
          </p>
        )}
      </fieldset>
      <fieldset>
        <legend>Direct permissions</legend>
        {permissions.length === 0 ? (
          <p class="none">None</p>
        ) : (
          <ul class="permissions editable" aria-label="Direct permissions to save">
            {permissions.map((p) => (
              <li key={p}>
                <code>{p}</code>
                <button
                  type="button"
                  class="link"
                  aria-label={`Remove ${p}`}
                  onClick={() => setPermissions(permissions.filter((q) => q !== p))}
                >
                  Remove
                </button>
              </li>
            ))}
          </ul>
        )}
        <label for="new-permission">Add a permission</label>
        <div class="add-permission">
          <input
            id="new-permission"
            value={adding}
            maxLength={200}
            aria-describedby="new-permission-hint"
            onInput={(event) => setAdding(event.currentTarget.value)}
            onKeyDown={(event) => {
              if (event.key === "Enter") {
                event.preventDefault();
                add();
              }
            }}
          />
          <button type="button" onClick={add}>
            Add
          </button>
        </div>
        <p class="hint" id="new-permission-hint">
          Letters, digits and <code>_ . : * / -</code>, for example <code>reports:read</code>.
        </p>
      </fieldset>
      <ProblemMessage problem={problem} error={error} />
      <div class="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={state.fetching}>
          Save access
        </button>
      </div>
    </form>
  );
}
