export function AuditPage(_props: { id?: string }) {
  return <h1 tabIndex={-1}>AuditPage</h1>;
}
