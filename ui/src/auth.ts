// The signed-in session: a bearer token kept in session storage (one tab, gone when the
// tab closes). The server checks every token; the console reads `exp` only to know when
// to send the person back to sign-in, and asks the server (`me`) who they are.
import { signal } from "@preact/signals";

const KEY = "roster.token";
const MESSAGE_KEY = "roster.signInMessage";

export type Session = { token: string; expiresAt: number | null; viaOidc: boolean };

function expiryOf(token: string): number | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" ? exp * 1000 : null;
  } catch {
    return null;
  }
}

function load(): Session | null {
  const token = sessionStorage.getItem(KEY);
  if (!token) return null;
  return { token, expiresAt: expiryOf(token), viaOidc: sessionStorage.getItem(KEY + ".oidc") === "1" };
}

export const session = signal<Session | null>(load());
/** Why the person is on the sign-in screen (an expired token, a sign-out). */
export const signInMessage = signal<string | null>(sessionStorage.getItem(MESSAGE_KEY));

/** `/#token=<JWT>`: keep it, and take it out of the address bar at once. */
export function takeTokenFromAddress(): void {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get("token");
  if (!token) return;
  fragment.delete("token");
  const rest = fragment.toString();
  history.replaceState(history.state, "", location.pathname + location.search + (rest ? "#" + rest : ""));
  signIn(token);
}

export function signIn(token: string, viaOidc = false): void {
  const trimmed = token.trim().replace(/^Bearer\s+/i, "");
  sessionStorage.setItem(KEY, trimmed);
  sessionStorage.setItem(KEY + ".oidc", viaOidc ? "1" : "0");
  sessionStorage.removeItem(MESSAGE_KEY);
  signInMessage.value = null;
  session.value = { token: trimmed, expiresAt: expiryOf(trimmed), viaOidc };
}

export function signOut(message: string | null = null): void {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(KEY + ".oidc");
  if (message) sessionStorage.setItem(MESSAGE_KEY, message);
  else sessionStorage.removeItem(MESSAGE_KEY);
  signInMessage.value = message;
  session.value = null;
}

export const EXPIRED = "Your session has expired. Sign in again to go on.";

let timer: ReturnType<typeof setTimeout> | undefined;
/** Back to sign-in, with a message, the moment the token expires. */
session.subscribe((current) => {
  clearTimeout(timer);
  if (!current?.expiresAt) return;
  const left = current.expiresAt - Date.now();
  if (left <= 0) {
    queueMicrotask(() => signOut(EXPIRED));
    return;
  }
  timer = setTimeout(() => signOut(EXPIRED), Math.min(left, 2 ** 31 - 1));
});
