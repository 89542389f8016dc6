// The shapes the wizard reads from the API (schema.graphql: ImportBatch, ImportRow, ...).
import type { UserStatus } from "../../caller";

export type { UserStatus };
export type ImportStatus =
  | "VALIDATING"
  | "IN_REVIEW"
  | "COMMITTING"
  | "COMPLETED"
  | "CANCELLED"
  | "REVERTING"
  | "REVERTED";
export type RowStatus =
  | "PENDING"
  | "VALID"
  | "INVALID"
  | "EXCLUDED"
  | "CREATED"
  | "FAILED"
  | "EXISTING"
  | "UPDATED"
  | "SKIPPED";
export type ExistingUserAction = "SKIP" | "RESEND_INVITATION" | "REACTIVATE" | "UPDATE_ACCESS";
export type AccessMode = "ASSIGN_GROUPS" | "MIRROR_USER" | "CUSTOMIZE";

export type Progress = {
  batchId: string;
  status: ImportStatus;
  total: number;
  validated: number;
  valid: number;
  invalid: number;
  excluded: number;
  processed: number;
  created: number;
  failed: number;
  /** What the import is busy with; etaSeconds is null until it can be estimated. */
  phase: ImportPhase;
  etaSeconds: number | null;
  /** Rows of people registered already, and what the commit did with them. */
  existing?: number;
  updated?: number;
  skipped?: number;
  /** revertImport's counts, while REVERTING and once REVERTED (null otherwise). */
  reverted?: number | null;
  kept?: number | null;
};

export type ImportPhase = "CHECKING" | "RECORDING" | "REGISTERING" | "REVERTING" | "DONE";

export type ImportAccess = { mode: AccessMode; groupIds: string[]; mirrorUserId: string | null };

export type Batch = {
  id: string;
  filename: string;
  createdAt: string;
  createdBy: string;
  status: ImportStatus;
  errorReportUrl: string;
  access: ImportAccess | null;
  progress: Progress;
};

export type RowError = { column: string | null; code: string; message: string };

export type Row = {
  rowNumber: number;
  firstName: string;
  lastName: string;
  email: string;
  username: string | null;
  status: RowStatus;
  errors: RowError[];
  existingUserId?: string | null;
  existingUserStatus?: UserStatus | null;
  action?: ExistingUserAction | null;
};

export type PageInfo = { hasNextPage: boolean; endCursor: string | null };

export type Connection<T> = {
  totalCount: number;
  pageInfo: PageInfo;
  edges: { cursor: string; node: T }[];
};

export type Group = { id: string; name: string; permissions: string[] };

export type InvalidFile = {
  __typename: "InvalidFile";
  code: string;
  message: string;
  reason: string;
  missingColumns: string[];
  unexpectedColumns: string[];
};

/** The template's columns as the review table names them. */
export const COLUMNS = [
  { field: "firstName", column: "first_name", label: "First name" },
  { field: "lastName", column: "last_name", label: "Last name" },
  { field: "email", column: "email", label: "Email" },
  { field: "username", column: "username", label: "Username" },
] as const;

export type RowField = (typeof COLUMNS)[number]["field"];

export const ROW_STATUS_LABELS: Record<RowStatus, string> = {
  PENDING: "Not checked yet",
  VALID: "Valid",
  INVALID: "Has errors",
  EXCLUDED: "Excluded",
  CREATED: "Created",
  FAILED: "Failed",
  EXISTING: "Registered already",
  UPDATED: "Updated",
  SKIPPED: "Skipped",
};


/** What the commit may do with a registered person, and the statuses each action fits
 * (as the server's rule: a reissued invitation, a reactivation). */
export const ACTIONS: { value: ExistingUserAction; label: string; fits: UserStatus[] | null }[] = [
  { value: "SKIP", label: "Skip", fits: null },
  { value: "RESEND_INVITATION", label: "Resend invitation", fits: ["PENDING", "EXPIRED"] },
  { value: "REACTIVATE", label: "Reactivate", fits: ["DEACTIVATED", "BLOCKED", "DISABLED"] },
  { value: "UPDATE_ACCESS", label: "Update access", fits: null },
];

export function actionsFor(status: UserStatus | null | undefined) {
  return ACTIONS.filter((a) => a.fits === null || (status != null && a.fits.includes(status)));
}

/** How far a batch has gone: a later state always wins over an older report of it. */
const ORDER: Record<ImportStatus, number> = {
  VALIDATING: 0,
  IN_REVIEW: 1,
  COMMITTING: 2,
  COMPLETED: 3,
  CANCELLED: 3,
  REVERTING: 4,
  REVERTED: 5,
};

/** The newer of two reports of a batch's progress (the subscription's or a query's). */
export function newer(a: Progress | undefined, b: Progress | undefined): Progress | undefined {
  if (!a) return b;
  if (!b) return a;
  return ORDER[b.status] > ORDER[a.status] ? b : a;
}

export function isFinal(status: ImportStatus): boolean {
  return status === "COMPLETED" || status === "CANCELLED" || status === "REVERTED";
}
