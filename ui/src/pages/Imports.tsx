export function ImportsPage(_props: { id?: string }) {
  return <h1 tabIndex={-1}>ImportsPage</h1>;
}
