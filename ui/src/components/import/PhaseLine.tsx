// What the import is busy with, in words, and about how long it may still take
// (ImportProgress.phase and etaSeconds).
import type { ImportPhase, Progress } from "./types";

const PHASES: Record<ImportPhase, string> = {
  CHECKING: "Checking the file",
  RECORDING: "Recording rows",
  REGISTERING: "Registering users",
  REVERTING: "Reverting the import",
  DONE: "Done",
};

/** "about 40 s left", "about 2 min left", "about 1 h 5 min left". */
export function timeLeft(seconds: number): string {
  if (seconds <= 0) return "almost done";
  if (seconds < 60) return `about ${seconds} s left`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} min left`;
  const rest = minutes % 60;
  return `about ${Math.floor(minutes / 60)} h${rest ? ` ${rest} min` : ""} left`;
}

export function PhaseLine({ progress }: { progress: Progress }) {
  const { phase, etaSeconds } = progress;
  const eta = phase !== "DONE" && etaSeconds !== null ? ` · ${timeLeft(etaSeconds)}` : "";
  return (
    <p class="progress-phase" role="status" aria-label="Import phase">
      {PHASES[phase] ?? phase}
      {eta}
    </p>
  );
}
