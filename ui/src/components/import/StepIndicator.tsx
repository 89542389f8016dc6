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

/** A step's heading; it takes the focus when the person moved to its step (or the step
 * before it had the focus), so that keyboards and screen readers start there. */
export function StepHeading({ children, id }: { children: string; id?: string }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    const element = heading.current;
    if (focusNextHeading) {
      focusNextHeading = false;
      element?.focus();
    }
    // A step that ends by itself (checked, committed) hands the focus on to the next one.
    return () => {
      if (element && document.activeElement === element) focusNextHeading = true;
    };
  }, []);
  return (
    <h2 ref={heading} id={id} tabIndex={-1}>
      {children}
    </h2>
  );
}
