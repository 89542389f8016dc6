"""What a server process writes to its log holds no token, with its access log on."""

from __future__ import annotations

import time
from pathlib import Path

from tests.api.operations import ACCEPT
from tests.support import ADMIN, ServerProcess, token

INVITATION = "Zm9vYmFyYmF6cXV4.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


def test_the_access_log_records_no_invitation_or_bearer_token(
    env: dict[str, str], tmp_path: Path
) -> None:
    bearer = token(ADMIN)
    server = ServerProcess.launch(env, tmp_path, log_level="info")
    try:
        assert server.api.http.get("/accept", params={"token": INVITATION}).status_code == 200
        server.api.post(ACCEPT, {"token": INVITATION})
        server.api.post("{ me { subject } }", as_=bearer)
        server.api.http.get("/graphql", params={"query": "{ me { subject } }", "token": bearer})
        time.sleep(0.5)  # the access log is written after the response
    finally:
        server.stop()
    log = server.log.read_text()

    assert "/accept?token=[redacted]" in log, log
    assert INVITATION not in log
    assert bearer not in log
