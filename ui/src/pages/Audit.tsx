// Audit: the status changes of every user (`statusChanges`, oldest first) within a time
// range kept in the address, page by page; and a live tail (`statusChanged`) that shows
// changes as they happen, newest first, announced politely.
import type { CombinedError } from "@urql/core";
import { useClient, useQuery } from "@urql/preact";
import { useEffect, useState } from "preact/hooks";
import { ChangesTable, changeKey, type StatusChange } from "../components/audit/ChangesTable";
import {
  exclusiveEnd,
  isoWithOffset,
  parseIso,
  parseLocal,
  timeZoneName,
  toLocalInput,
} from "../components/audit/range";
import { forgetUserNames, loadUserNames } from "../components/audit/userNames";
import { ExportButton } from "../components/ExportButton";
import { ProblemMessage } from "../components/Problem";
import { formatNumber, plural } from "../components/format";
import statusChangedSubscription from "../operations/audit/statusChanged.graphql?raw";
import statusChangesQuery from "../operations/audit/statusChanges.graphql?raw";
import { location$, setQuery } from "../router";
import "./Audit.css";
import { Pager, useCursors } from "../components/Pager";

const PAGE_SIZE = 50;

type Data = {
  statusChanges: {
    edges: { cursor: string; node: StatusChange }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
};

export function AuditPage(_props: { id?: string }) {
  const query = location$.value.query;
  // The range as the address holds it: ISO 8601 with an offset, both ends included.
  const from = parseIso(query.get("from")) ? query.get("from") : null;
  const to = parseIso(query.get("to")) ? query.get("to") : null;
  const [live, setLive] = useState(false);
  const [arrived, setArrived] = useState<StatusChange[]>([]);
  const [liveError, setLiveError] = useState<CombinedError | null>(null);
  // Each "Show changes" asks again, from the first page, even for the same range.
  const [round, setRound] = useState(0);

  // Names are read afresh each time the screen opens (before its tables ask for any).
  useState(forgetUserNames);

  const toggleLive = () => {
    if (!live) {
      setArrived([]);
      setLiveError(null);
    }
    setLive(!live);
  };

  return (
    <section class="audit-page" aria-labelledby="audit-title">
      <header class="page-header">
        <h1 id="audit-title" tabIndex={-1}>
          Audit
        </h1>
        <button type="button" class="toggle" aria-pressed={live} aria-describedby="live-hint" onClick={toggleLive}>
          <span class="toggle-light" aria-hidden="true" />
          Live tail
        </button>
      </header>
      <p class="hint" id="live-hint">
        Every change of a user's status: who made it, when, from which source and why. The live tail shows
        changes as they happen, newest first, whatever the range.
      </p>

      {live && (
        <LiveTail
          onChange={(change) =>
            setArrived((before) =>
              before.some((c) => changeKey(c) === changeKey(change)) ? before : [change, ...before],
            )
          }
          onError={(error) => {
            setLiveError(error);
            setLive(false);
          }}
        />
      )}
      <p class="live-status" role="status">
        {live
          ? arrived.length === 0
            ? "Live tail on: new changes appear below as they happen."
            : plural(arrived.length, "new change")
          : arrived.length > 0
            ? `Live tail paused: ${plural(arrived.length, "new change")} shown.`
            : ""}
      </p>
      <ProblemMessage error={liveError} />
      {arrived.length > 0 && (
        <section class="live-tail" aria-labelledby="live-title">
          <h2 id="live-title">New changes</h2>
          <ChangesTable changes={arrived} caption="New changes, newest first" />
        </section>
      )}

      <RangeForm key={`${from}|${to}`} from={from} to={to} onApply={() => setRound(round + 1)} />
      <Feed key={`${from}|${to}|${round}`} from={from} to={to} />
    </section>
  );
}

/** Subscribes to every status change while mounted. */
function LiveTail({
  onChange,
  onError,
}: {
  onChange: (change: StatusChange) => void;
  onError: (error: CombinedError) => void;
}) {
  const client = useClient();
  useEffect(() => {
    const subscription = client
      .subscription<{ statusChanged: StatusChange }>(statusChangedSubscription, {})
      .subscribe((result) => {
        if (result.data) {
          loadUserNames(client, [result.data.statusChanged.userId]);
          onChange(result.data.statusChanged);
        } else if (result.error) onError(result.error);
      });
    return () => subscription.unsubscribe();
  }, [client]);
  return null;
}

function RangeForm({ from, to, onApply }: { from: string | null; to: string | null; onApply: () => void }) {
  const [fromValue, setFromValue] = useState(toLocalInput(parseIso(from)));
  const [toValue, setToValue] = useState(toLocalInput(parseIso(to)));
  const [problem, setProblem] = useState<{ field: "from" | "to"; text: string } | null>(null);

  const apply = (event: Event) => {
    event.preventDefault();
    const since = fromValue ? parseLocal(fromValue) : null;
    const until = toValue ? parseLocal(toValue) : null;
    if (fromValue && !since) return setProblem({ field: "from", text: "From is not a date and time." });
    if (toValue && !until) return setProblem({ field: "to", text: "To is not a date and time." });
    if (since && until && since > until)
      return setProblem({ field: "to", text: "To must be the same as From or later." });
    setProblem(null);
    setQuery({ from: since ? isoWithOffset(since) : null, to: until ? isoWithOffset(until) : null });
    onApply();
  };
  const clear = () => {
    setProblem(null);
    setQuery({ from: null, to: null });
  };

  return (
    <form class="range" aria-labelledby="range-title" onSubmit={apply} noValidate>
      <h2 id="range-title">Time range</h2>
      <p class="hint" id="range-hint">
        In your time zone ({timeZoneName()}); both ends included. Leave one empty for no limit.
      </p>
      <div class="range-fields">
        <div>
          <label for="audit-from">From</label>
          <input
            id="audit-from"
            type="datetime-local"
            step={1}
            value={fromValue}
            aria-describedby="range-hint"
            aria-invalid={problem?.field === "from" ? true : undefined}
            onInput={(event) => setFromValue(event.currentTarget.value)}
          />
        </div>
        <div>
          <label for="audit-to">To</label>
          <input
            id="audit-to"
            type="datetime-local"
            step={1}
            value={toValue}
            aria-describedby="range-hint"
            aria-invalid={problem?.field === "to" ? true : undefined}
            onInput={(event) => setToValue(event.currentTarget.value)}
          />
        </div>
        <div class="range-actions">
          <button type="submit" class="primary">
            Show changes
          </button>
          {(from || to) && (
            <button type="button" onClick={clear}>
              Clear range
            </button>
          )}
        </div>
      </div>
      {problem && (
        <p class="problem" role="alert">
          {problem.text}
        </p>
      )}
    </form>
  );
}

function Feed({ from, to }: { from: string | null; to: string | null }) {
  const client = useClient();
  const pages = useCursors();
  const until = to ? exclusiveEnd(to) : null;
  const [{ data, error, fetching }] = useQuery<Data>({
    query: statusChangesQuery,
    variables: { since: from, until: until ? until.toISOString() : null, first: PAGE_SIZE, after: pages.after },
  });
  const changes = data?.statusChanges.edges.map((edge) => edge.node) ?? [];
  const pageInfo = data?.statusChanges.pageInfo;
  useEffect(() => {
    if (changes.length > 0) loadUserNames(client, changes.map((c) => c.userId));
  }, [data]);

  const pageNumber = pages.pageNumber;
  const first = (pageNumber - 1) * PAGE_SIZE + 1;
  const moved = (move: () => void) => () => {
    move();
    document.getElementById("feed-title")?.focus();
  };
  const ranged = Boolean(from || to);
  const exported = new URLSearchParams();
  if (from) exported.set("since", from);
  if (until) exported.set("until", until.toISOString());

  return (
    <section class="feed" aria-labelledby="feed-title" aria-busy={fetching}>
      <div class="feed-header">
        <h2 id="feed-title" tabIndex={-1}>
          Status changes
        </h2>
        <ExportButton
          url={`/status-changes.csv?${exported}`}
          filename="status-changes.csv"
          holds={ranged ? "every change in this range" : "every change"}
        />
      </div>
      <ProblemMessage error={data ? null : error} />
      {fetching && !data && (
        <p class="loading" role="status">
          Loading changes…
        </p>
      )}
      {data && changes.length === 0 && (
        <div class="empty">
          <p>
            {pageNumber > 1
              ? "No more changes."
              : ranged
                ? "No status changes in this range. Widen the range, or clear it."
                : "No status changes yet. They appear here when users are created, invited, deactivated or reactivated."}
          </p>
        </div>
      )}
      {changes.length > 0 && (
        <>
          <p class="feed-where">
            Changes {formatNumber(first)}–{formatNumber(first + changes.length - 1)}, oldest first
          </p>
          <ChangesTable changes={changes} caption="Status changes, oldest first" />
        </>
      )}
      {(pageNumber > 1 || pageInfo?.hasNextPage) && (
        <Pager
          label="Pages of changes"
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
