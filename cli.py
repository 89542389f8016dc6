"""The `roster` command: local tokens, read-model rebuilds, import workers, and the
development server."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from domain.profiles import Profile
from logs import keep_secrets_out_of_logs
from settings import SECRET_FILE, ConfigurationError, Settings, parse_duration

if TYPE_CHECKING:
    from bootstrap import Services
    from jobs.loop import BackgroundLoop


#: The reason an erasure done again from the ledger gives.
REAPPLIED = "Erased again after a backup was restored: the erasure ledger names them."


def main(argv: Sequence[str] | None = None) -> int:
    keep_secrets_out_of_logs()
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except ConfigurationError as error:
        print(f"roster: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="roster", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    token = commands.add_parser("token", help="print a bearer token the server accepts")
    token.add_argument("--subject", required=True, help="the 'sub' claim: who acts")
    token.add_argument(
        "--profile",
        action="append",
        required=True,
        choices=[p.value for p in Profile],
        help="a profile to grant; repeat for several",
    )
    token.add_argument("--ttl", default="8h", help="lifetime: seconds or 15m, 8h, 7d (8h)")
    token.set_defaults(run=_token)

    projections = commands.add_parser("projections", help="read-model maintenance")
    actions = projections.add_subparsers(required=True, metavar="ACTION")
    rebuild = actions.add_parser("rebuild", help="rebuild every read model from the events")
    rebuild.set_defaults(run=_rebuild)

    erasures = commands.add_parser("erasures", help="erasure maintenance")
    erasure_actions = erasures.add_subparsers(required=True, metavar="ACTION")
    reapply = erasure_actions.add_parser(
        "reapply",
        help="after restoring a backup: erase again everyone the erasure ledgers name",
        description="Destroys every key the erasure ledgers name (ROSTER_ERASURE_LEDGER by "
        "default), erases again each user among them who is not ERASED in the restored "
        "store (their email and username are freed again), and rebuilds the read models "
        "from the events. Safe to run again.",
    )
    reapply.add_argument(
        "ledgers", metavar="LEDGER", nargs="*", help="erasure ledger files (JSON lines)"
    )
    reapply.set_defaults(run=_reapply_erasures)

    worker = commands.add_parser(
        "worker",
        help="run import work (reading files, registering rows) and bulk actions (on users, "
        "reverts of imports) in this process, "
        "beside or instead of the servers' own workers",
    )
    worker.set_defaults(run=_worker)

    mailer = commands.add_parser(
        "mailer",
        help="send invitation mails in this process, beside or instead of the servers' own "
        "delivery (run servers with ROSTER_MAIL_DELIVERY=off to leave it all here)",
    )
    mailer.set_defaults(run=_mailer)

    legacy = commands.add_parser(
        "legacy-import",
        help="register users from a legacy system with their original status and creation "
        "date (the only way into BLOCKED and DISABLED); safe to run again",
        description="Registers the users of FILE (columns first_name, last_name, email, "
        "username, status, created_at) with source LEGACY_MIGRATION. Rows at fault are "
        "reported and not registered; correct them and run the command again: rows "
        "registered by an earlier run are skipped. Exit status: 0 when every row is "
        "registered, 1 when some rows were not, 2 when the file itself, --actor or --reason "
        "is at fault.",
    )
    legacy.add_argument("file", metavar="FILE", help="the CSV file (UTF-8, Windows-1252, ...)")
    legacy.add_argument(
        "--actor",
        default="system",
        help="who migrates, as the status history shows it: your name or email (system)",
    )
    legacy.add_argument(
        "--reason", help="the status history's reason (says the file and the date by default)"
    )
    legacy.add_argument(
        "--dry-run", action="store_true", help="check and report only: register nobody"
    )
    legacy.add_argument(
        "--report", metavar="PATH", help="write the rows not registered, with their errors, as CSV"
    )
    legacy.set_defaults(run=_legacy_import)

    serve = commands.add_parser(
        "serve", help="run the server for local use (generates a secret, prints a token)"
    )
    serve.set_defaults(run=_serve)
    return parser


def _token(args: argparse.Namespace) -> int:
    from tokens import issue_token

    settings = Settings.from_env()
    ttl = parse_duration(args.ttl, name="--ttl")
    profiles = [Profile(p) for p in args.profile]
    print(issue_token(settings, subject=args.subject, profiles=profiles, ttl=ttl))
    return 0


def _rebuild(args: argparse.Namespace) -> int:
    from bootstrap import build_services

    services = build_services(Settings.from_env())
    try:
        position = services.read_model.rebuild()
    finally:
        services.close()
    print(f"Read models rebuilt from {position} events.")
    return 0


def _reapply_erasures(args: argparse.Namespace) -> int:
    from bootstrap import build_services
    from domain.statuses import UserStatus
    from store.ledger import read_ledgers

    settings = Settings.from_env()
    paths = [Path(path) for path in args.ledgers] or [Path(settings.erasure_ledger)]
    if missing := [str(path) for path in paths if not path.is_file()]:
        print(f"roster: no erasure ledger at {', '.join(missing)}", file=sys.stderr)
        return 2
    key_ids = sorted(read_ledgers(paths), key=str)
    services = build_services(settings)
    try:
        services.read_model.catch_up()
        users = services.roster.users_of(key_ids)  # a user's own key id is their id
        again = [u.id for u in users.values() if u.status is not UserStatus.ERASED]
        for user_id in again:
            services.erasures.erase_user(user_id, actor="system", reason=REAPPLIED)
        services.roster.destroy_keys(key_ids)
        position = services.read_model.rebuild()
    finally:
        services.close()
    print(
        f"{len(key_ids)} keys destroyed, {len(again)} users erased again; read models "
        f"rebuilt from {position} events."
    )
    return 0


def _worker(args: argparse.Namespace) -> int:
    return _run_loops("import worker", lambda services: [services.worker, services.bulk_worker])


def _mailer(args: argparse.Namespace) -> int:
    return _run_loops("mail delivery", lambda services: [services.delivery])


def _run_loops(what: str, loops_of: Callable[[Services], list[BackgroundLoop]]) -> int:
    """Runs background loops of the services in this process until SIGTERM or Ctrl-C."""
    import signal
    import threading

    from bootstrap import build_services

    services = build_services(Settings.from_env())
    stopping = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stopping.set())
    loops = loops_of(services)
    for loop in loops:
        loop.start()
    print(f"Roster {what} on {services.settings.store.shown_url}.", flush=True)
    try:
        while not stopping.wait(1):
            pass
    finally:
        for loop in loops:
            loop.stop()
        services.close()
    return 0


def _legacy_import(args: argparse.Namespace) -> int:
    from legacy_import import run_legacy_import

    return run_legacy_import(
        Settings.from_env(),
        args.file,
        actor=args.actor,
        reason=args.reason,
        dry_run=args.dry_run,
        report_path=args.report,
    )


def ensure_local_secret() -> None:
    """For local use: a generated HS256 secret in data/, readable by its owner only (not
    with an identity provider, whose own keys verify the tokens)."""
    keys = (
        "ROSTER_JWT_SECRET",
        "ROSTER_JWT_PUBLIC_KEY",
        "ROSTER_JWT_JWKS_URL",
        "ROSTER_OIDC_ISSUER",
    )
    if any(os.environ.get(name) for name in keys):
        return
    if not SECRET_FILE.exists():
        SECRET_FILE.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(SECRET_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48))
    SECRET_FILE.chmod(0o600)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from tokens import issue_token

    ensure_local_secret()
    settings = Settings.from_env()
    host = os.environ.get("ROSTER_HOST", "127.0.0.1")
    port = int(os.environ.get("ROSTER_PORT", "8000"))
    if settings.jwt_secret:
        token = issue_token(
            settings, subject="local-admin", profiles=list(Profile), ttl=timedelta(hours=8)
        )
        base = f"http://{host}:{port}"
        print(f"\nRoster on {base}/ ({settings.store.shown_url}); the API at {base}/graphql")
        # The token rides in the fragment, which the browser never sends to the server.
        print(f"Open the console, signed in as local-admin (8 hours):\n\n  {base}/#token={token}\n")
        print(f"Admin token for local use (8 hours):\n\n  {token}\n", flush=True)
    elif settings.oidc_issuer:
        base = f"http://{host}:{port}"
        print(f"\nRoster on {base}/: sign in with {settings.oidc_issuer}\n", flush=True)
    # uvicorn refuses a larger WebSocket message itself, before buffering it (1009).
    uvicorn.run(
        "server:app",
        host=host,
        port=port,
        log_level="info",
        ws_max_size=settings.max_body_bytes,
        # Compressing each small message costs more CPU than it saves (see README).
        ws_per_message_deflate=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
