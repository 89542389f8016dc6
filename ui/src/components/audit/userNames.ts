// Users' names for the audit feed, which gives ids only: one request per page of changes
// for the ids not yet known, `user(id)` under an alias per id (at most 25 a request: the
// API allows 30 aliases). The document depends on how many ids there are, so it is built
// here rather than kept in a .graphql file; it selects only `id`, `name` and `status` (an
// erased person's name is empty: the feed names them as erased).
import type { Client } from "@urql/core";
import { signal } from "@preact/signals";
import type { UserStatus } from "../../caller";
import { shownName } from "../users/erased";

const PER_REQUEST = 25;

/** Known names by user id; null when the user could not be read (the id is shown). */
export const userNames = signal<ReadonlyMap<string, string | null>>(new Map());
const asked = new Set<string>();

export function forgetUserNames(): void {
  userNames.value = new Map();
  asked.clear();
}

export function namesDocument(count: number): string {
  const variables = Array.from({ length: count }, (_, i) => `$u${i}: ID!`).join(", ");
  const fields = Array.from({ length: count }, (_, i) => `u${i}: user(id: $u${i}) { id name status }`).join(" ");
  return `query AuditUserNames(${variables}) { ${fields} }`;
}

/** Asks for the names of the ids not known or asked for yet. */
export function loadUserNames(client: Client, ids: Iterable<string>): void {
  const wanted = [...new Set(ids)].filter((id) => !asked.has(id));
  for (let start = 0; start < wanted.length; start += PER_REQUEST) {
    const chunk = wanted.slice(start, start + PER_REQUEST);
    chunk.forEach((id) => asked.add(id));
    const variables = Object.fromEntries(chunk.map((id, i) => [`u${i}`, id]));
    void client
      .query<Record<string, { id: string; name: string; status: UserStatus } | null>>(
        namesDocument(chunk.length),
        variables,
        { requestPolicy: "network-only" },
      )
      .toPromise()
      .then((result) => {
        const next = new Map(userNames.value);
        chunk.forEach((id, i) => {
          const user = result.data?.[`u${i}`];
          next.set(id, user ? shownName(user) : null);
        });
        userNames.value = next;
      });
  }
}
