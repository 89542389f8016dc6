// A confirmation for an action that cannot be undone: a native <dialog>, modal, with the
// focus inside it, Esc to cancel.
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

type Props = {
  title: string;
  confirmLabel: string;
  /** The button that leaves things as they are ("Cancel" unless told). */
  cancelLabel?: string;
  children?: ComponentChildren;
  danger?: boolean;
  busy?: boolean;
  /** The confirming button waits for something more (a typed confirmation, say). */
  unready?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
};

export function Confirm({ title, confirmLabel, cancelLabel = "Cancel", children, danger, busy, unready, onConfirm, onCancel }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => element?.close();
  }, []);
  return (
    <dialog
      ref={dialog}
      class="confirm"
      aria-labelledby="confirm-title"
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
    >
      <h2 id="confirm-title">{title}</h2>
      <div class="confirm-body">{children}</div>
      <div class="actions">
        <button type="button" onClick={onCancel}>
          {cancelLabel}
        </button>
        <button type="button" class={danger ? "danger" : "primary"} disabled={busy || unready} onClick={onConfirm}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
