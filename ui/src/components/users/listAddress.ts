// The overview's address as last shown (search, filter, sort in its query string), so that a
// user's page leads back to the same list.
let last = "/users";

export function rememberListAddress(address: string): void {
  last = address;
}

export function listAddress(): string {
  return last;
}
