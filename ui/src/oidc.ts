// Sign-in with an OpenID Connect provider (authorization code with PKCE, a public
// client), when the server is configured with ROSTER_OIDC_ISSUER and ROSTER_OIDC_CLIENT_ID.
// The server publishes those settings at /console/config.json.
//
// Which token the API gets: the provider's access token when it is a JWT issued for
// Roster's audience that carries the profiles claim (ROSTER_JWT_PROFILES_CLAIM), else the
// ID token, which is always a JWT whose audience is the console's client id. The server
// checks either the same way (signature by the provider's keys, `iss`, `aud`, `exp`,
// the profiles claim). Many providers issue opaque access tokens, or JWTs for another
// audience, or put roles only in the ID token; the ID token works with all of them.
//
// oidc-client-ts is loaded only when a provider is configured (its own chunk).
import type { ErrorResponse, User, UserManager } from "oidc-client-ts";
import { session, signIn, signOut } from "./auth";
import signInCheck from "./operations/oidc/signInCheck.graphql?raw";
import { navigate } from "./router";

export type OidcConfig = {
  issuer: string;
  clientId: string;
  scope: string;
  /** The `aud` the API expects (ROSTER_JWT_AUDIENCE, else the client id). */
  audience: string;
  /** Where the API reads profiles, e.g. `roles` or `realm_access.roles`. */
  profilesClaim: string;
};

export type ConsoleConfig = { oidc: OidcConfig | null };

const CALLBACK = "/oidc/callback";
/** The state kept across the redirect to the provider and back. */
type Remembered = { returnTo?: unknown };

let config: Promise<ConsoleConfig> | null = null;

export function consoleConfig(): Promise<ConsoleConfig> {
  config ??= fetch("/console/config.json")
    .then((response) => (response.ok ? (response.json() as Promise<ConsoleConfig>) : { oidc: null }))
    .catch(() => ({ oidc: null }));
  return config;
}

let manager: UserManager | null = null;

async function userManager(): Promise<{ manager: UserManager; oidc: OidcConfig } | null> {
  const { oidc } = await consoleConfig();
  if (!oidc) return null;
  const { UserManager, WebStorageStateStore } = await import("oidc-client-ts");
  // Everything in session storage: this tab only, gone when it closes (as the session is).
  manager ??= new UserManager({
    authority: oidc.issuer,
    client_id: oidc.clientId,
    redirect_uri: location.origin + CALLBACK,
    post_logout_redirect_uri: location.origin + "/",
    response_type: "code",
    scope: oidc.scope,
    userStore: new WebStorageStateStore({ store: sessionStorage, prefix: "roster.oidc.user." }),
    stateStore: new WebStorageStateStore({ store: sessionStorage, prefix: "roster.oidc.state." }),
    // The session ends when the provider's token expires (auth.ts): sign in again, which
    // the provider's own session makes one click.
    automaticSilentRenew: false,
    loadUserInfo: false,
  });
  return { manager, oidc };
}

/** Sends the browser to the provider's sign-in, to come back to where it is now. */
export async function startOidcSignIn(): Promise<void> {
  const configured = await userManager();
  if (!configured) throw new Error("Sign-in with an identity provider is not configured on this server.");
  const here = location.pathname + location.search;
  const returnTo = location.pathname === CALLBACK ? "/" : here;
  try {
    await configured.manager.signinRedirect({ state: { returnTo } satisfies Remembered });
  } catch (error) {
    throw new Error(
      `Your identity provider (${configured.oidc.issuer}) could not be reached: ${reason(error)} ` +
        "Try again shortly, or sign in with a token.",
    );
  }
}

/** Finishes a sign-in when the provider sends the browser back (/oidc/callback). */
export async function completeOidcSignIn(): Promise<void> {
  if (location.pathname !== CALLBACK) return;
  const signedIn = session.value !== null;
  const configured = await userManager();
  if (!configured) {
    if (!signedIn) signOut("Sign-in with an identity provider is not configured on this server.");
    navigate("/", { replace: true });
    return;
  }
  const { manager, oidc } = configured;
  let returnTo = "/";
  try {
    const refused = await providerError();
    if (refused) throw refused;
    const user = await manager.signinRedirectCallback();
    returnTo = pathFrom(user.state);
    const token = tokenForApi(user, oidc);
    const problem = await checkWithServer(token, oidc);
    if (problem) {
      await manager.removeUser();
      signOut(problem);
    } else {
      signIn(token, true);
    }
  } catch (error) {
    if (isErrorResponse(error)) returnTo = pathFrom(error.state);
    // A stale answer (the back button after signing in) leaves a live session alone.
    if (!signedIn) signOut(describe(error));
  }
  navigate(returnTo, { replace: true });
}

/** Local sign-out is done; this ends the provider's session too, where it offers that. */
export async function signOutOfProvider(): Promise<void> {
  const configured = await userManager();
  if (!configured) return;
  const { manager } = configured;
  try {
    const endSession = await manager.metadataService.getEndSessionEndpoint();
    if (endSession) {
      // Sends the ID token as id_token_hint, removes the user, and the provider sends
      // the browser back to post_logout_redirect_uri (the console's sign-in).
      await manager.signoutRedirect();
      return;
    }
  } catch {
    // The provider cannot be reached: signed out here, which is what was asked.
  }
  await manager.removeUser();
}

// ------------------------------------------------------------------ the callback

/**
 * An error the provider answered with but oidc-client-ts cannot match to a sign-in (an
 * answer without `state`): told by its code only, since nothing proves where it comes from.
 */
async function providerError(): Promise<Error | null> {
  const query = new URLSearchParams(location.search);
  const error = query.get("error");
  if (!error || query.get("state")) return null;
  const { ErrorResponse } = await import("oidc-client-ts");
  return new ErrorResponse({ error: /^[a-z_]{1,64}$/.test(error) ? error : "unknown_error" });
}

function isErrorResponse(error: unknown): error is ErrorResponse {
  return error instanceof Error && error.name === "ErrorResponse";
}

function pathFrom(state: unknown): string {
  const returnTo = (state as Remembered | undefined)?.returnTo;
  // A path of this console only (never `//host`, which would leave it).
  if (typeof returnTo !== "string" || !returnTo.startsWith("/") || returnTo.startsWith("//")) return "/";
  return returnTo.startsWith(CALLBACK) ? "/" : returnTo;
}

function tokenForApi(user: User, oidc: OidcConfig): string {
  const access = claimsOf(user.access_token);
  if (access && audienceIncludes(access.aud, oidc.audience) && claimAt(access, oidc.profilesClaim) !== undefined) {
    return user.access_token;
  }
  if (user.id_token) return user.id_token;
  throw new Error("The identity provider sent no ID token: its answer lacks the openid scope.");
}

function claimsOf(token: string | undefined): Record<string, unknown> | null {
  const part = token?.split(".")[1];
  if (!part || token?.split(".").length !== 3) return null;
  try {
    const binary = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === "object" ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function audienceIncludes(aud: unknown, audience: string): boolean {
  return aud === audience || (Array.isArray(aud) && aud.includes(audience));
}

function claimAt(claims: Record<string, unknown>, path: string): unknown {
  let value: unknown = claims;
  for (const part of path.split(".")) {
    if (!value || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

type Checked = {
  data?: { me?: { subject: string; profiles: string[] } } | null;
  errors?: { message: string; extensions?: { code?: string } }[];
};

/**
 * Asks the server who the token proves, so that a token it refuses, or an account without
 * a profile, is told in words at sign-in rather than as an expired session. Null when the
 * token is fine (or the server cannot say: the console then finds out as it goes).
 */
async function checkWithServer(token: string, oidc: OidcConfig): Promise<string | null> {
  let answer: Checked;
  try {
    const response = await fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: signInCheck }),
    });
    answer = (await response.json()) as Checked;
  } catch {
    return null;
  }
  const refused = answer.errors?.find((e) => e.extensions?.code === "UNAUTHENTICATED");
  if (refused) {
    return (
      `Roster did not accept the sign-in from your identity provider: ${refused.message} ` +
      "Ask your administrator to check how Roster is registered there."
    );
  }
  const me = answer.data?.me;
  if (me && me.profiles.length === 0) {
    return (
      `You signed in as ${me.subject}, but your account has no Roster profile. Ask your ` +
      `administrator to give you one at your identity provider (Roster reads the "${oidc.profilesClaim}" claim).`
    );
  }
  return null;
}

function describe(error: unknown): string {
  if (isErrorResponse(error)) {
    if (error.error === "access_denied") {
      return "Sign-in was cancelled or refused at your identity provider. Sign in again to go on.";
    }
    if (error.error === "login_required" || error.error === "interaction_required") {
      return "Your identity provider asks you to sign in there first. Sign in again to go on.";
    }
    const detail = error.error_description ? `: ${error.error_description}` : "";
    return `Your identity provider could not sign you in (${error.error}${detail}). Sign in again to go on.`;
  }
  const message = reason(error);
  if (/state/i.test(message)) {
    return (
      "This sign-in could not be completed: it was not started in this tab, or its answer " +
      "was already used. Sign in again."
    );
  }
  return `The sign-in could not be completed: ${message} Sign in again to go on.`;
}

function reason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
