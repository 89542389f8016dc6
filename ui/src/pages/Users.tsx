export function UsersPage(_props: { id?: string }) {
  return <h1 tabIndex={-1}>UsersPage</h1>;
}
