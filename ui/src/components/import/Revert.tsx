// Reverting a COMPLETED import (administrators): a button and a dialog that asks why, then
// the progress while REVERTING, and once REVERTED what was done and who stayed.
import { useMutation, useQuery } from "@urql/preact";
import type { CombinedError } from "@urql/core";
import { useState } from "preact/hooks";
import { Link } from "../../router";
import { Confirm } from "../Confirm";
import { Pager, useCursors } from "../Pager";
import { ProblemMessage, type ProblemShape, isProblem } from "../Problem";
import { StatusBadge } from "../StatusBadge";
import { formatNumber, plural } from "../format";
import { MAX_REASON_LENGTH } from "../users/lifecycle";
import type { UserStatus } from "../../caller";
import revertMutation from "../../operations/bulk/revertImport.graphql?raw";
import revertQuery from "../../operations/bulk/importRevert.graphql?raw";
import type { Batch, Connection, Progress } from "./types";

export function RevertButton({ batch, onStarted }: { batch: Batch; onStarted: () => void }) {
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState("");
  const [problem, setProblem] = useState<ProblemShape | null>(null);
  const [error, setError] = useState<CombinedError | null>(null);
  const [state, revert] = useMutation<{ revertImport: { __typename: string } | ProblemShape }>(revertMutation);
  const confirm = async () => {
    setProblem(null);
    setError(null);
    const result = await revert({ batchId: batch.id, reason: reason.trim() });
    const outcome = result.data?.revertImport;
    if (outcome && !isProblem(outcome)) {
      setAsking(false);
      onStarted();
    } else if (outcome) setProblem(outcome);
    else setError(result.error ?? null);
  };
  return (
    <>
      <button type="button" class="danger-outline" onClick={() => setAsking(true)}>
        Revert import
      </button>
      {asking && (
        <Confirm
          title="Revert this import?"
          confirmLabel="Revert import"
          cancelLabel="Keep the users"
          danger
          busy={state.fetching || reason.trim() === ""}
          onConfirm={() => void confirm()}
          onCancel={() => setAsking(false)}
        >
          <p>
            Every user {batch.filename} created who has not accepted their invitation is deactivated: their invitation
            links stop working and mails not sent yet are not sent. Users who accepted stay, and are listed.
          </p>
          <label for="revert-reason">Reason (required)</label>
          <textarea
            id="revert-reason"
            rows={3}
            required
            maxLength={MAX_REASON_LENGTH}
            value={reason}
            aria-describedby="revert-reason-hint"
            onInput={(event) => setReason(event.currentTarget.value)}
          />
          <p class="hint" id="revert-reason-hint">
            Kept in each deactivated user's history. {reason.length}/{MAX_REASON_LENGTH} characters.
          </p>
          <ProblemMessage problem={problem} error={error} />
        </Confirm>
      )}
    </>
  );
}

export function RevertingProgress({ progress }: { progress: Progress }) {
  const done = (progress.reverted ?? 0) + (progress.kept ?? 0);
  return (
    <div class="live-progress">
      <p>The users this import created who have not accepted their invitation are being deactivated.</p>
      <progress aria-label="Users reverted" max={Math.max(progress.created, 1)} value={done} />
      <p class="progress-counts" aria-live="polite">
        {formatNumber(progress.reverted ?? 0)} deactivated, {formatNumber(progress.kept ?? 0)} kept (they had
        accepted), of {plural(progress.created, "user")} created.
      </p>
    </div>
  );
}

type Kept = { id: string; name: string; email: string; status: UserStatus };
type Revert = {
  actor: string;
  reason: string | null;
  total: number;
  reverted: number;
  skipped: number;
  kept: number;
  keptUsers: Connection<Kept>;
};

export function RevertSummary({ batchId }: { batchId: string }) {
  const pages = useCursors();
  const [{ data, error, fetching }] = useQuery<{ importBatch: { revert: Revert | null } | null }>({
    query: revertQuery,
    variables: { id: batchId, first: 50, after: pages.after },
  });
  const revert = data?.importBatch?.revert;
  if (!revert) return <ProblemMessage error={error} />;
  const kept = revert.keptUsers;
  return (
    <div class="summary">
      <p class="notice" role="status">
        This import was reverted by {revert.actor}
        {revert.reason ? ` (“${revert.reason}”)` : ""}: {plural(revert.reverted, "user")} deactivated
        {revert.skipped > 0 ? `, ${formatNumber(revert.skipped)} already deactivated` : ""}
        {`, ${plural(revert.kept, "user")} kept because they had accepted their invitation.`}
      </p>
      {revert.kept > 0 && (
        <section aria-labelledby="kept-heading">
          <h3 id="kept-heading">Users who stayed</h3>
          <div class="table-scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Access Email</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {kept.edges.map(({ node }) => (
                  <tr key={node.id}>
                    <td>
                      <Link href={`/users/${encodeURIComponent(node.id)}`}>{node.name}</Link>
                    </td>
                    <td>{node.email}</td>
                    <td>
                      <StatusBadge status={node.status} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {(kept.pageInfo.hasNextPage || pages.hasPrevious) && (
            <Pager
              label="Pages of users who stayed"
              hasPrevious={pages.hasPrevious}
              hasNext={kept.pageInfo.hasNextPage}
              busy={fetching}
              onPrevious={pages.previous}
              onNext={() => pages.next(kept.pageInfo.endCursor)}
            />
          )}
        </section>
      )}
      <div class="actions">
        <Link href="/users" class="button primary">
          Go to User Management
        </Link>
      </div>
    </div>
  );
}
