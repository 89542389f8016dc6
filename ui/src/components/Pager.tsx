// Keyset paging's Previous / Next, the same on every screen. A button that cannot act is
// marked aria-disabled (not disabled), so the keyboard focus stays on it at either end.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";

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

/** Where a keyset-paged list is: the `after` cursor of each page shown so far. */
export type Cursors = {
  /** The cursor the current page starts after (null on the first page). */
  after: string | null;
  /** 1 on the first page. */
  pageNumber: number;
  hasPrevious: boolean;
  /** To the page after `cursor` (the current page's `endCursor`). */
  next: (cursor: string | null | undefined) => void;
  previous: () => void;
  /** Back to the first page. */
  reset: () => void;
};

/** The cursors of a keyset-paged list. When `resetKey` changes (another search, filter,
 * order or page size), the list starts again at its first page. */
export function useCursors(resetKey = ""): Cursors {
  const [state, setState] = useState<{ key: string; stack: (string | null)[] }>({ key: resetKey, stack: [null] });
  const stack = state.key === resetKey ? state.stack : [null];
  return {
    after: stack[stack.length - 1],
    pageNumber: stack.length,
    hasPrevious: stack.length > 1,
    next: (cursor) => {
      if (cursor) setState({ key: resetKey, stack: [...stack, cursor] });
    },
    previous: () => {
      if (stack.length > 1) setState({ key: resetKey, stack: stack.slice(0, -1) });
    },
    reset: () => setState({ key: resetKey, stack: [null] }),
  };
}
