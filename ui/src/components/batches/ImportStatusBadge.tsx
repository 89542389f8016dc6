// An import batch's status as a badge, with what it means as its tooltip.
import "./ImportStatusBadge.css";
import type { ImportStatus } from "../import/types";

const LABELS: Record<ImportStatus, string> = {
  VALIDATING: "Validating",
  IN_REVIEW: "In review",
  COMMITTING: "Committing",
  COMPLETED: "Completed",
  CANCELLED: "Cancelled",
  REVERTING: "Reverting",
  REVERTED: "Reverted",
};

const MEANINGS: Record<ImportStatus, string> = {
  VALIDATING: "The file was accepted and its rows are being checked.",
  IN_REVIEW: "Every row is checked: rows can be corrected or excluded, and access chosen, before creating the users.",
  COMMITTING: "The users are being created, row by row.",
  COMPLETED: "Every row was processed: see the created and failed counts.",
  CANCELLED: "The import was stopped; rows not processed were not created.",
  REVERTING: "The users it created who have not accepted their invitation are being deactivated.",
  REVERTED: "The users it created who had not accepted their invitation were deactivated.",
};

export function importStatusLabel(status: ImportStatus): string {
  return LABELS[status] ?? status;
}

export function ImportStatusBadge({ status }: { status: ImportStatus }) {
  return (
    <span class={`badge import-status import-status-${status.toLowerCase().replace("_", "-")}`} title={MEANINGS[status]}>
      {importStatusLabel(status)}
    </span>
  );
}
