// The invitation page (/accept#token=…), in the console's look, apart from the console:
// no session, no router, one request. Opening it changes nothing (mail scanners follow
// links); only pressing the button accepts. The token comes in the address's fragment
// (never sent to the server) or, in older links, its query; it is taken out of the
// address bar and history at once.
import acceptMutation from "./operations/accept/acceptInvitation.graphql?raw";
import "./styles.css";
import "./accept.css";

type Outcome =
  | { __typename: "User"; name: string; status: string }
  | { __typename: string; code: string; message: string };

const NO_TOKEN = "This page needs the link from your invitation email: open that link again.";
const UNREACHABLE = "Roster could not be reached. Check your connection and press the button again.";

function takeToken(): string {
  const token =
    new URLSearchParams(location.hash.slice(1)).get("token") ||
    new URLSearchParams(location.search).get("token") ||
    "";
  if (token) history.replaceState(null, "", location.pathname);
  return token.trim();
}

let token = takeToken();
const button = document.getElementById("accept") as HTMLButtonElement;
const status = document.getElementById("status") as HTMLElement;
const problemArea = document.getElementById("problem") as HTMLElement;

function showProblem(text: string | null): void {
  problemArea.replaceChildren();
  if (!text) return;
  const problem = document.createElement("p");
  problem.className = "problem";
  problem.setAttribute("role", "alert");
  problem.textContent = text;
  problemArea.append(problem);
}

function showStatus(text: string, success = false): void {
  status.textContent = text;
  status.classList.toggle("success", success);
}

async function accept(): Promise<Outcome> {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: acceptMutation, variables: { token } }),
  });
  const body = (await response.json()) as { data?: { acceptInvitation?: Outcome } };
  const outcome = body.data?.acceptInvitation;
  if (!outcome) throw new Error(`The server answered ${response.status}.`);
  return outcome;
}

function ready(): void {
  button.hidden = false;
  button.disabled = !token;
  showStatus("");
  showProblem(token ? null : NO_TOKEN);
}

ready();
// Another invitation link opened in this tab changes only the fragment: no new page.
addEventListener("hashchange", () => {
  const next = takeToken();
  if (!next) return;
  token = next;
  ready();
});

button.addEventListener("click", () => {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  showProblem(null);
  showStatus("Accepting…");
  accept()
    .then((outcome) => {
      if ("name" in outcome) {
        showStatus(`Welcome, ${outcome.name}: your access is active.`, true);
        button.hidden = true;
      } else {
        showStatus("");
        showProblem("message" in outcome ? outcome.message : "The invitation could not be accepted.");
        button.disabled = false;
      }
    })
    .catch(() => {
      showStatus("");
      showProblem(UNREACHABLE);
      button.disabled = false;
    })
    .finally(() => button.removeAttribute("aria-busy"));
});
