// The shapes the wizard reads from the API (schema.graphql: ImportBatch, ImportRow, ...).
export type ImportStatus =
  | "VALIDATING"
  | "IN_REVIEW"
  | "COMMITTING"
  | "COMPLETED"
  | "CANCELLED"
  | "REVERTING"
  | "REVERTED";
export type RowStatus = "PENDING" | "VALID" | "INVALID" | "EXCLUDED" | "CREATED" | "FAILED";
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
  /** revertImport's counts, while REVERTING and once REVERTED (null otherwise). */
  reverted?: number | null;
  kept?: number | null;
};

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
};

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
