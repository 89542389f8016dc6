import { useEffect, useState } from "preact/hooks";
import { signIn, signInMessage } from "../auth";
import { type ConsoleConfig, consoleConfig, startOidcSignIn } from "../oidc";

/** Sign-in: with the identity provider when one is configured, or by pasting a token. */
export function SignIn() {
  const [token, setToken] = useState("");
  const [config, setConfig] = useState<ConsoleConfig | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  useEffect(() => {
    void consoleConfig().then(setConfig);
    document.querySelector<HTMLElement>("h1")?.focus();
  }, []);
  const message = signInMessage.value;
  return (
    <main id="main" class="sign-in">
      <h1 tabIndex={-1}>Sign in to Roster</h1>
      {message && (
        <p class="notice" role="status">
          {message}
        </p>
      )}
      {config?.oidc && (
        <section aria-labelledby="with-provider">
          <h2 id="with-provider">With your organisation's account</h2>
          <button
            type="button"
            class="primary"
            onClick={() => startOidcSignIn().catch((error: Error) => setFailure(error.message))}
          >
            Sign in with your identity provider
          </button>
        </section>
      )}
      <section aria-labelledby="with-token">
        <h2 id="with-token">With a token</h2>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            const value = token.trim();
            if (value.split(".").length !== 3) {
              setFailure("That is not a token: a token has three parts separated by dots. Paste it whole.");
              return;
            }
            signIn(value);
          }}
        >
          <label for="token">Bearer token</label>
          <p class="hint" id="token-hint">
            Paste a token issued for Roster, for example the one <code>make run</code> prints.
          </p>
          <textarea
            id="token"
            rows={4}
            aria-describedby="token-hint"
            aria-invalid={failure ? true : undefined}
            value={token}
            onInput={(event) => setToken(event.currentTarget.value)}
            spellcheck={false}
            autocomplete="off"
          />
          <button type="submit" class="primary">
            Sign in
          </button>
        </form>
      </section>
      {failure && (
        <p class="problem" role="alert">
          {failure}
        </p>
      )}
    </main>
  );
}
