// Status changes as a table: when, whose, from → to, why. The feed's pages and the live
// tail both use it.
import type { UserStatus } from "../../caller";
import { Link } from "../../router";
import { StatusBadge } from "../StatusBadge";
import { SOURCE_NAMES } from "../users/lifecycle";
import { userNames } from "./userNames";

export type StatusChange = {
  userId: string;
  version: number;
  from: UserStatus | null;
  to: UserStatus;
  at: string;
  actor: string;
  source: string;
  reason: string | null;
};

const moment = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

export function formatMoment(iso: string): string {
  return moment.format(new Date(iso));
}

export function changeKey(change: StatusChange): string {
  return `${change.userId}:${change.version}`;
}

export function ChangesTable({ changes, caption }: { changes: StatusChange[]; caption: string }) {
  const names = userNames.value;
  return (
    <table class="changes">
      <caption class="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">User</th>
          <th scope="col">From → To</th>
          <th scope="col">Source</th>
          <th scope="col">Actor</th>
          <th scope="col">Reason</th>
        </tr>
      </thead>
      <tbody>
        {changes.map((change) => {
          const name = names.get(change.userId);
          return (
            <tr key={changeKey(change)}>
              <td class="when">
                <time dateTime={change.at}>{formatMoment(change.at)}</time>
              </td>
              <td class="who">
                <Link href={`/users/${encodeURIComponent(change.userId)}`}>{name ?? change.userId}</Link>
                {name && (
                  <div class="user-id" title={change.userId}>
                    {change.userId}
                  </div>
                )}
              </td>
              <td class="transition">
                {change.from ? <StatusBadge status={change.from} /> : <span class="created">New user</span>}
                <span aria-hidden="true"> → </span>
                <span class="visually-hidden"> to </span>
                <StatusBadge status={change.to} />
              </td>
              <td>{SOURCE_NAMES[change.source] ?? change.source}</td>
              <td class="actor">{change.actor}</td>
              <td class="reason">{change.reason ?? <span class="none">—</span>}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
