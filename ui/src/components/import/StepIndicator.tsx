// The wizard's steps, as the help article numbers them; the current one is aria-current.
import { useEffect, useRef } from "preact/hooks";

export const STEPS = ["Import", "Download CSV Template", "Upload and review", "Access", "Create users"] as const;

type Props = {
  /** 1-based; 0 when no step is current (a cancelled batch). */
  current: number;
  /** Steps that may be gone back or forward to from here, with where they lead. */
  reachable?: Partial<Record<number, () => void>>;
};

export function StepIndicator({ current, reachable = {} }: Props) {
  return (
    <nav class="wizard-steps" aria-label="Import steps">
      <ol>
        {STEPS.map((name, index) => {
          const number = index + 1;
          const state = number === current ? "current" : number < current ? "done" : "todo";
          const go = reachable[number];
          const label = (
            <>
              <span class="step-number" aria-hidden="true">
                {number}
              </span>
              <span class="step-name">{name}</span>
              {state === "done" && <span class="visually-hidden"> (done)</span>}
            </>
          );
          return (
            <li key={name} class={`step step-${state}`} aria-current={number === current ? "step" : undefined}>
              {go && number !== current ? (
                <button type="button" class="step-link" onClick={go}>
                  {label}
                </button>
              ) : (
                <span class="step-label">{label}</span>
              )}
            </li>
          );
        })}
      </ol>
    </nav>
  );
}

let focusNextHeading = false;

/** The next step heading to open takes the focus (after a step change the person asked for). */
export function moveFocusToNextStep(): void {
  focusNextHeading = true;
}

/** A step's heading; it takes the focus when the person moved to its step, so that
 * keyboards and screen readers start there. */
export function StepHeading({ children, id }: { children: string; id?: string }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (!focusNextHeading) return;
    focusNextHeading = false;
    heading.current?.focus();
  }, []);
  return (
    <h2 ref={heading} id={id} tabIndex={-1}>
      {children}
    </h2>
  );
}

/** When a step ends by itself (the file checked, the users created), the focus, lost with
 * the step's controls, goes to the heading of the step that follows. */
export function useFocusOnStepChange(view: string): void {
  const previous = useRef<string | null>(null);
  useEffect(() => {
    const before = previous.current;
    previous.current = view;
    if (before === null || before === view) return;
    const active = document.activeElement;
    const lost = !active || active === document.body || active.matches("main h1");
    if (lost) document.querySelector<HTMLElement>(".wizard-step h2")?.focus();
  }, [view]);
}
