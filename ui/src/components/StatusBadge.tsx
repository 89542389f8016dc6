import { type UserStatus, useCaller } from "../caller";

const LABELS: Record<UserStatus, string> = {
  PENDING: "Pending",
  ACTIVE: "Active",
  EXPIRED: "Expired",
  DEACTIVATED: "Deactivated",
  BLOCKED: "Blocked",
  DISABLED: "Disabled",
  ERASED: "Erased",
};

export function statusLabel(status: UserStatus): string {
  return LABELS[status] ?? status;
}

/** A status as a badge; its meaning (from `statusDefinitions`) is its tooltip. */
export function StatusBadge({ status }: { status: UserStatus }) {
  const definition = useCaller().statuses.find((d) => d.status === status);
  const legacy = definition?.legacy ?? false;
  const meaning = definition ? definition.meaning + (legacy ? " (legacy status)" : "") : undefined;
  return (
    <span class={`badge badge-${status.toLowerCase()}`} title={meaning}>
      {statusLabel(status)}
      {legacy && <span class="badge-legacy"> · legacy</span>}
      {meaning && <span class="visually-hidden">: {meaning}</span>}
    </span>
  );
}
