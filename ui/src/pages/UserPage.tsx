export function UserPage(_props: { id?: string }) {
  return <h1 tabIndex={-1}>UserPage</h1>;
}
