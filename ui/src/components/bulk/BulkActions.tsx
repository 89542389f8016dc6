// Bulk actions on the Users overview: the users ticked on the page, or every user the
// search and status filter match, resent an invitation, deactivated or reactivated in the
// background, with a reason, the progress followed live (startBulkAction,
// bulkActionProgress).
import { useMutation, useSubscription } from "@urql/preact";
import type { CombinedError } from "@urql/core";
import { useState } from "preact/hooks";
import type { UserStatus } from "../../caller";
import { Confirm } from "../Confirm";
import { ProblemMessage, type ProblemShape, isProblem } from "../Problem";
import { formatNumber, plural } from "../format";
import { MAX_REASON_LENGTH } from "../users/lifecycle";
import startMutation from "../../operations/bulk/startBulkAction.graphql?raw";
import progressSubscription from "../../operations/bulk/bulkActionProgress.graphql?raw";
import "./BulkActions.css";

export type BulkActionName = "RESEND_INVITATION" | "DEACTIVATE" | "REACTIVATE";
type Progress = {
  id: string;
  action: BulkActionName;
  status: "RUNNING" | "COMPLETED";
  total: number;
  processed: number;
  changed: number;
  skipped: number;
};

const ACTIONS: { action: BulkActionName; label: string; verb: string; allowed: string; danger?: boolean }[] = [
  {
    action: "RESEND_INVITATION",
    label: "Resend invitation",
    verb: "Resend the invitation to",
    allowed: "Pending and Expired users get a new invitation (Expired ones become Pending); the old links stop working.",
  },
  {
    action: "DEACTIVATE",
    label: "Deactivate",
    verb: "Deactivate",
    allowed: "Pending, Active and Expired users lose their access.",
    danger: true,
  },
  {
    action: "REACTIVATE",
    label: "Reactivate",
    verb: "Reactivate",
    allowed: "Deactivated (and legacy) users get their access back, or a new invitation if they never accepted one.",
  },
];

type Props = {
  /** The users ticked, and those of the page shown. */
  selected: string[];
  pageIds: string[];
  onSelect: (ids: string[]) => void;
  /** How many users the search and filter match, and what they are. */
  matching: number;
  search: string;
  statuses: UserStatus[];
  /** An action has gone through every user: the list is read again. */
  onDone: () => void;
};

export function BulkActions(props: Props) {
  const [allMatching, setAllMatching] = useState(false);
  const [asked, setAsked] = useState<(typeof ACTIONS)[number] | null>(null);
  const [running, setRunning] = useState<Progress | null>(null);
  const count = allMatching ? props.matching : props.selected.length;
  const filtered = props.search !== "" || props.statuses.length > 0;
  const { pageIds, selected } = props;
  const wholePage = pageIds.length > 0 && pageIds.every((id) => selected.includes(id));
  const tickPage = (on: boolean) => {
    const rest = selected.filter((id) => !pageIds.includes(id));
    props.onSelect(on ? [...rest, ...pageIds] : rest);
  };
  return (
    <section class="bulk-actions" aria-labelledby="bulk-actions-title">
      <h2 id="bulk-actions-title" class="visually-hidden">
        Bulk actions
      </h2>
      <div class="bulk-bar" role="toolbar" aria-label="Bulk actions">
        <span class="bulk-count">{plural(count, "user")} selected</span>
        <label class="check">
          <input
            type="checkbox"
            checked={wholePage}
            disabled={allMatching || pageIds.length === 0}
            onChange={(event) => tickPage(event.currentTarget.checked)}
          />
          Every user on this page
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={allMatching}
            onChange={(event) => setAllMatching(event.currentTarget.checked)}
          />
          All {plural(props.matching, "user")} {filtered ? "matching the search and filter" : ""}
        </label>
        {ACTIONS.map((choice) => (
          <button
            key={choice.action}
            type="button"
            class={choice.danger ? "danger-outline" : undefined}
            disabled={count === 0 || (running !== null && running.status === "RUNNING")}
            onClick={() => setAsked(choice)}
          >
            {choice.label}
          </button>
        ))}
      </div>
      {running && <Following started={running} onDone={props.onDone} />}
      {asked && (
        <BulkDialog
          choice={asked}
          count={count}
          given={
            allMatching
              ? { filter: { search: props.search || null, status: props.statuses.length ? props.statuses : null } }
              : { userIds: props.selected }
          }
          onCancel={() => setAsked(null)}
          onStarted={(progress) => {
            setAsked(null);
            setAllMatching(false);
            props.onSelect([]);
            setRunning(progress);
          }}
        />
      )}
    </section>
  );
}

type Given = { userIds: string[] } | { filter: { search: string | null; status: UserStatus[] | null } };

function BulkDialog(props: {
  choice: (typeof ACTIONS)[number];
  count: number;
  given: Given;
  onCancel: () => void;
  onStarted: (progress: Progress) => void;
}) {
  const [reason, setReason] = useState("");
  const [problem, setProblem] = useState<ProblemShape | null>(null);
  const [error, setError] = useState<CombinedError | null>(null);
  const [state, start] = useMutation<{ startBulkAction: Progress | ProblemShape }>(startMutation);
  const { choice, count } = props;
  const confirm = async () => {
    setProblem(null);
    setError(null);
    const result = await start({ action: choice.action, reason: reason.trim() || null, ...props.given });
    const outcome = result.data?.startBulkAction;
    if (outcome && !isProblem(outcome)) props.onStarted(outcome);
    else if (outcome) setProblem(outcome);
    else setError(result.error ?? null);
  };
  return (
    <Confirm
      title={`${choice.verb} ${plural(count, "user")}?`}
      confirmLabel={`${choice.label} (${formatNumber(count)})`}
      danger={choice.danger}
      busy={state.fetching}
      onConfirm={() => void confirm()}
      onCancel={props.onCancel}
    >
      <p>
        {choice.allowed} Users in another status are skipped and counted. It runs in the background; you may leave this
        page.
      </p>
      <label for="bulk-reason">Reason (optional)</label>
      <textarea
        id="bulk-reason"
        rows={3}
        maxLength={MAX_REASON_LENGTH}
        value={reason}
        aria-describedby="bulk-reason-hint"
        onInput={(event) => setReason(event.currentTarget.value)}
      />
      <p class="hint" id="bulk-reason-hint">
        Kept with the action and, for a status change, in each user's history. {reason.length}/{MAX_REASON_LENGTH}{" "}
        characters.
      </p>
      <ProblemMessage problem={problem} error={error} />
    </Confirm>
  );
}

/** The action's progress, live, until it is COMPLETED. */
function Following({ started, onDone }: { started: Progress; onDone: () => void }) {
  const [live] = useSubscription<{ bulkActionProgress: Progress }, Progress | null>(
    { query: progressSubscription, variables: { id: started.id }, pause: started.status === "COMPLETED" },
    (previous, data) => {
      const next = data.bulkActionProgress;
      if (next.status === "COMPLETED" && previous?.status !== "COMPLETED") onDone();
      return next;
    },
  );
  const progress = live.data ?? started;
  const label = ACTIONS.find((a) => a.action === progress.action)?.label ?? progress.action;
  const done = progress.status === "COMPLETED";
  return (
    <div class="live-progress bulk-progress">
      <progress aria-label={`${label}: users processed`} max={Math.max(progress.total, 1)} value={progress.processed} />
      <p class="progress-counts" role="status">
        {label}: {done ? "done" : `${formatNumber(progress.processed)} of ${formatNumber(progress.total)} processed`}
        {" · "}
        {formatNumber(progress.changed)} changed, {formatNumber(progress.skipped)} skipped
        {progress.skipped > 0 && done ? " (their status did not allow it)" : ""}.
      </p>
      <ProblemMessage error={live.error} />
    </div>
  );
}
