// Outcomes and errors in words: a mutation's Problem, or a request refused as a whole.
import type { CombinedError } from "@urql/core";
import { errorCodes } from "../client";

export type ProblemShape = { __typename?: string; code: string; message: string };

const REFUSALS: Record<string, string> = {
  FORBIDDEN: "Your profile does not allow this.",
  UNAUTHENTICATED: "Your session has expired. Sign in again to go on.",
  TRY_AGAIN: "The server is busy. Try again in a moment.",
  QUERY_TOO_COMPLEX: "The request asked for too much at once.",
  PAYLOAD_TOO_LARGE: "The file is larger than the server accepts.",
  INTERNAL_SERVER_ERROR: "Something went wrong on the server. Try again; if it keeps failing, tell your administrator.",
};

/** A sentence for a request that failed as a whole (network or top-level error). */
export function describeError(error: CombinedError): string {
  if (error.networkError) return "The server could not be reached. Check your connection and try again.";
  const code = errorCodes(error)[0] ?? "";
  return REFUSALS[code] ?? error.graphQLErrors[0]?.message ?? "The request failed.";
}

/** Shown where an action's outcome is a Problem or an error; announced to screen readers. */
export function ProblemMessage({ problem, error }: { problem?: ProblemShape | null; error?: CombinedError | null }) {
  const text = problem ? problem.message : error ? describeError(error) : null;
  if (!text) return null;
  return (
    <p class="problem" role="alert">
      {text}
    </p>
  );
}

/** Whether a union result is a Problem (it has a code) rather than the thing asked for. */
export function isProblem(result: unknown): result is ProblemShape {
  return typeof result === "object" && result !== null && "code" in result && "message" in result;
}
