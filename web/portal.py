"""The portal's invitation page, `GET /accept#token=…`: a small form that accepts the
invitation with the `acceptInvitation` mutation when the person presses its button.

Opening the link changes nothing (mail scanners follow links): only the button does.
The token travels in the link's fragment, which browsers never send to the server, so
no access log or proxy records it; links of the older form `?token=…` still work. The
page's script reads it from the address and then takes it out of the address bar and
history; the server never writes it into the HTML, and a strict Content-Security-Policy
allows only this page's script.

The page is the console's (ui/accept.html and ui/src/accept.ts, built by Vite into
ui/dist/accept.html and ui/dist/accept.js, styled by the console's stylesheet under
/assets). When the console is not built, the plain page below is served instead, so an
invitation can always be accepted.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from settings import CONSOLE

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <title>Accept your invitation</title>
  <style>
    body { font-family: system-ui, sans-serif; max-width: 32rem; margin: 4rem auto; }
    button { font-size: 1rem; padding: .6rem 1.2rem; }
    #outcome { margin-top: 1.5rem; }
  </style>
</head>
<body>
  <h1>Accept your invitation</h1>
  <p>Press the button to accept the invitation that was sent to you and open your access.</p>
  <button id="accept" type="button">Accept invitation</button>
  <p id="outcome" role="status"></p>
  <script src="/accept.js"></script>
</body>
</html>
"""

SCRIPT = """
"use strict";
const token = new URLSearchParams(window.location.hash.slice(1)).get("token") ||
  new URLSearchParams(window.location.search).get("token") || "";
if (token) history.replaceState(null, "", window.location.pathname);
const button = document.getElementById("accept");
const outcome = document.getElementById("outcome");
const MUTATION = "mutation($token: String!) { acceptInvitation(token: $token) { " +
  "__typename ... on User { name email status } ... on Problem { message } } }";
if (!token) {
  button.disabled = true;
  outcome.textContent = "This page needs the link from your invitation email.";
}
button.addEventListener("click", async () => {
  button.disabled = true;
  outcome.textContent = "Accepting…";
  try {
    const response = await fetch("/graphql", {
      method: "POST",
      headers: {"content-type": "application/json"},
      body: JSON.stringify({query: MUTATION, variables: {token}}),
    });
    const result = (await response.json()).data.acceptInvitation;
    outcome.textContent = result.__typename === "User"
      ? "Welcome, " + result.name + ": your access is active."
      : result.message;
    if (result.__typename !== "User") button.disabled = false;
  } catch (error) {
    outcome.textContent = "The portal could not be reached; try again in a moment.";
    button.disabled = false;
  }
});
"""

POLICY = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
#: The built page's policy: its styles are the console's files, none inline.
BUILT_POLICY = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": POLICY,
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
}
BUILT_HEADERS = {**HEADERS, "content-security-policy": BUILT_POLICY}


def built_page(request: Request) -> tuple[Path, Path] | None:
    """The console's invitation page and its script, when the console is built."""
    services = getattr(request.app.state, "services", None)
    root = Path(services.settings.console_dir) if services is not None else CONSOLE
    page, script = root / "accept.html", root / "accept.js"
    return (page, script) if page.is_file() and script.is_file() else None


async def accept_page(request: Request) -> Response:
    built = built_page(request)
    if built is None:
        return HTMLResponse(PAGE, headers=HEADERS)
    return FileResponse(built[0], media_type="text/html", headers=BUILT_HEADERS)


async def accept_script(request: Request) -> Response:
    built = built_page(request)
    if built is None:
        return Response(SCRIPT, media_type="text/javascript", headers=HEADERS)
    return FileResponse(built[1], media_type="text/javascript", headers=BUILT_HEADERS)
