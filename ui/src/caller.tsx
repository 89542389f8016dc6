// Who is signed in (the server's `me`) and what the statuses mean, for every screen.
import { createContext } from "preact";
import { useContext } from "preact/hooks";

export type Profile = "USER_MANAGEMENT_ADMIN" | "USER_MANAGEMENT_VIEWER" | "AUDITOR";
export type UserStatus = "PENDING" | "ACTIVE" | "EXPIRED" | "DEACTIVATED" | "BLOCKED" | "DISABLED" | "ERASED";
export type StatusDefinition = { status: UserStatus; meaning: string; legacy: boolean; assignable: boolean };
export type Caller = { subject: string; profiles: Profile[]; statuses: StatusDefinition[] };

export const CallerContext = createContext<Caller>({ subject: "", profiles: [], statuses: [] });

export function useCaller(): Caller {
  return useContext(CallerContext);
}

/** What a profile may do, as the server authorises it (README "Profiles"). */
export function can(caller: Caller, action: "import" | "manageUsers" | "audit" | "readUsers"): boolean {
  const has = (p: Profile) => caller.profiles.includes(p);
  switch (action) {
    case "import":
      return has("USER_MANAGEMENT_ADMIN") || has("USER_MANAGEMENT_VIEWER");
    case "manageUsers":
      return has("USER_MANAGEMENT_ADMIN");
    case "audit":
      return has("USER_MANAGEMENT_ADMIN") || has("AUDITOR");
    case "readUsers":
      return caller.profiles.length > 0;
  }
}

export const PROFILE_NAMES: Record<Profile, string> = {
  USER_MANAGEMENT_ADMIN: "User management admin",
  USER_MANAGEMENT_VIEWER: "User management viewer",
  AUDITOR: "Auditor",
};
