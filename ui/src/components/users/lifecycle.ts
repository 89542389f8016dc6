// Which lifecycle actions fit a status: the transition table of domain/statuses.py, as the
// server enforces it (a stale page still gets the server's InvalidState, in words).
import type { UserStatus } from "../../caller";

/** (Transition.DEACTIVATE, from): PENDING, ACTIVE, EXPIRED. */
export const DEACTIVATE_FROM: readonly UserStatus[] = ["PENDING", "ACTIVE", "EXPIRED"];
/** (Transition.REACTIVATE, from): DEACTIVATED and the legacy BLOCKED, DISABLED. */
export const REACTIVATE_FROM: readonly UserStatus[] = ["DEACTIVATED", "BLOCKED", "DISABLED"];
/** (Transition.REISSUE_INVITATION, from): PENDING, EXPIRED. */
export const RESEND_FROM: readonly UserStatus[] = ["PENDING", "EXPIRED"];
/** (Transition.ERASE, from): every status but ERASED, which nothing leads out of. */
export const ERASE_FROM: readonly UserStatus[] = ["PENDING", "ACTIVE", "EXPIRED", "DEACTIVATED", "BLOCKED", "DISABLED"];

/** The status-change sources in words (StatusChangeSource). */
export const SOURCE_NAMES: Record<string, string> = {
  REGISTRATION: "Registration",
  IMPORT: "Bulk import",
  INVITATION: "Invitation accepted",
  ADMINISTRATOR: "Administrator",
  EXPIRY: "Invitation expiry",
  LEGACY_MIGRATION: "Legacy migration",
  IMPORT_REVERT: "Import reverted",
  ERASURE: "Erasure",
};

/** The longest reason the server keeps (domain/values.py MAX_REASON_LENGTH). */
export const MAX_REASON_LENGTH = 500;
