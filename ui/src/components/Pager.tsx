// Keyset paging's Previous / Next, the same on every screen. A button that cannot act is
// marked aria-disabled (not disabled), so the keyboard focus stays on it at either end.
import type { ComponentChildren } from "preact";

type Props = {
  /** What is paged, for screen readers: "Pages of imports". */
  label: string;
  hasPrevious: boolean;
  hasNext: boolean;
  /** While a page is on its way: neither button acts. */
  busy?: boolean;
  onPrevious: () => void;
  onNext: () => void;
  previousLabel?: string;
  nextLabel?: string;
  /** Where the reader is: "Page 2", "Rows 101–200 of 230". */
  children?: ComponentChildren;
  class?: string;
};

export function Pager(props: Props) {
  const { label, hasPrevious, hasNext, busy = false, onPrevious, onNext, children } = props;
  const button = (can: boolean, act: () => void, text: string) => (
    <button type="button" aria-disabled={can && !busy ? undefined : "true"} onClick={() => can && !busy && act()}>
      {text}
    </button>
  );
  return (
    <nav class={props.class ? `pager ${props.class}` : "pager"} aria-label={label}>
      {button(hasPrevious, onPrevious, props.previousLabel ?? "Previous page")}
      {children !== undefined && <span class="pager-where">{children}</span>}
      {button(hasNext, onNext, props.nextLabel ?? "Next page")}
    </nav>
  );
}
