// Sign-in with an OpenID Connect provider (authorization code with PKCE, a public
// client), when the server is configured with ROSTER_OIDC_ISSUER and ROSTER_OIDC_CLIENT_ID.
// The server publishes those settings at /console/config.json.

export type ConsoleConfig = { oidc: { issuer: string; clientId: string; scope: string } | null };

let config: Promise<ConsoleConfig> | null = null;

export function consoleConfig(): Promise<ConsoleConfig> {
  config ??= fetch("/console/config.json")
    .then((response) => (response.ok ? (response.json() as Promise<ConsoleConfig>) : { oidc: null }))
    .catch(() => ({ oidc: null }));
  return config;
}

/** Finishes a sign-in when the provider sends the browser back (/oidc/callback). */
export async function completeOidcSignIn(): Promise<void> {
  // Built by the OIDC work (issue 11); until then nothing to complete.
}

export async function startOidcSignIn(): Promise<void> {
  throw new Error("OpenID Connect sign-in is not configured.");
}

export async function signOutOfProvider(): Promise<void> {}
