// The review table's X icon: its accessible name and tooltip say what is wrong and how to
// fix it (the error's message, one sentence a person can act on).
export function ErrorIcon({ where, messages }: { where: string; messages: string[] }) {
  const text = messages.join(" ");
  return (
    <span class="x-icon" role="img" aria-label={`Error in ${where}: ${text}`} title={messages.join("\n")}>
      <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">
        <circle cx="8" cy="8" r="7.5" />
        <path d="M5.2 5.2l5.6 5.6M10.8 5.2l-5.6 5.6" />
      </svg>
    </span>
  );
}
