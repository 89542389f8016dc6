import { useQuery } from "@urql/preact";
import { useEffect } from "preact/hooks";
import { session, signOut } from "./auth";
import { type Caller, CallerContext, PROFILE_NAMES, can } from "./caller";
import { ProblemMessage } from "./components/Problem";
import meQuery from "./operations/me.graphql?raw";
import { AuditPage } from "./pages/Audit";
import { ImportsPage } from "./pages/Imports";
import { ImportWizard } from "./pages/ImportWizard";
import { SignIn } from "./pages/SignIn";
import { UserPage } from "./pages/UserPage";
import { UsersPage } from "./pages/Users";
import { Link, location$, match, navigate } from "./router";
import { signOutOfProvider } from "./oidc";

export function App() {
  if (!session.value) return <SignIn />;
  return <SignedIn key={session.value.token} />;
}

function SignedIn() {
  const [{ data, error, fetching }] = useQuery<{ me: Omit<Caller, "statuses">; statusDefinitions: Caller["statuses"] }>({
    query: meQuery,
  });
  if (fetching && !data) return <p class="loading" role="status">Loading…</p>;
  if (!data) return <ProblemMessage error={error} />;
  const caller: Caller = { ...data.me, statuses: data.statusDefinitions };
  return (
    <CallerContext.Provider value={caller}>
      <div class="shell">
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        <Sidebar caller={caller} />
        <main id="main" tabIndex={-1}>
          <Screen caller={caller} />
        </main>
      </div>
    </CallerContext.Provider>
  );
}

function Sidebar({ caller }: { caller: Caller }) {
  const path = location$.value.path;
  const item = (href: string, label: string) => (
    <li>
      <Link href={href} aria-current={path === href || path.startsWith(href + "/") ? "page" : undefined}>
        {label}
      </Link>
    </li>
  );
  return (
    <nav class="sidebar" aria-label="Console">
      <div class="brand">Roster</div>
      <ul>
        {item("/users", "User Management")}
        {can(caller, "import") && item("/imports", "Imports")}
        {can(caller, "audit") && item("/audit", "Audit")}
        <li>
          {/* rel="opener": the new tab gets a copy of this tab's session storage, its token. */}
          <a href="/graphql" target="_blank" rel="opener">
            GraphiQL
          </a>
        </li>
      </ul>
      <div class="signed-in">
        <div class="subject" title="Signed in as">
          {caller.subject}
        </div>
        <ul class="profiles" aria-label="Profiles">
          {caller.profiles.map((p) => (
            <li key={p}>{PROFILE_NAMES[p]}</li>
          ))}
        </ul>
        <button type="button" onClick={() => void signOutEverywhere()}>
          Sign out
        </button>
      </div>
    </nav>
  );
}

async function signOutEverywhere(): Promise<void> {
  const viaOidc = session.value?.viaOidc ?? false;
  signOut("You have signed out.");
  navigate("/", { replace: true });
  if (viaOidc) await signOutOfProvider();
}

function Screen({ caller }: { caller: Caller }) {
  const path = location$.value.path;
  useEffect(() => {
    if (path === "/" || path === "") navigate("/users", { replace: true });
  }, [path]);
  let params: Record<string, string> | null;
  if (match("/users", path)) return <UsersPage />;
  if ((params = match("/users/:id", path))) return <UserPage id={params.id} />;
  if (match("/imports", path)) return can(caller, "import") ? <ImportsPage /> : <NotAllowed />;
  if (match("/imports/new", path)) return can(caller, "import") ? <ImportWizard /> : <NotAllowed />;
  if ((params = match("/imports/:id", path)))
    return can(caller, "import") ? <ImportWizard batchId={params.id} /> : <NotAllowed />;
  if (match("/audit", path)) return can(caller, "audit") ? <AuditPage /> : <NotAllowed />;
  if (path === "/" || path === "") return null;
  return (
    <section>
      <h1 tabIndex={-1}>Page not found</h1>
      <p>
        There is nothing at this address. Go to <Link href="/users">User Management</Link>.
      </p>
    </section>
  );
}

function NotAllowed() {
  return (
    <section>
      <h1 tabIndex={-1}>Not available to your profile</h1>
      <p>
        Your profile does not allow this screen. Go to <Link href="/users">User Management</Link>.
      </p>
    </section>
  );
}
