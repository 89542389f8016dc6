// An erased person (eraseUser): the API answers their name, email and username as empty
// strings, for good. The console says so in their place rather than showing blanks.
import type { UserStatus } from "../../caller";

/** What stands in an erased person's name. */
export const ERASED_NAME = "Erased user";
/** What stands in an erased person's email or username. */
export const ERASED_VALUE = "—";

/** The name to show for a person: theirs, or ERASED_NAME once they are erased. */
export function shownName(person: { name: string; status: UserStatus }): string {
  return person.status === "ERASED" ? ERASED_NAME : person.name;
}

/** An email or username to show: the value, or ERASED_VALUE once its person is erased. */
export function shownValue(value: string, status: UserStatus): string {
  return status === "ERASED" ? ERASED_VALUE : value;
}
