"""Configuration, read only from environment variables (listed in README.md)."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from domain.ids import MAX_ROW_IDS

DEFAULT_DATABASE_URL = "sqlite:///data/roster.db"
#: The claim Roster's own tokens name their profiles in.
DEFAULT_PROFILES_CLAIM = "profiles"
#: The shortest secret accepted (HS256 wants a key as long as its hash).
MIN_SECRET_BYTES = 32
SECRET_FILE = Path("data/jwt.secret")
#: The invitation mail's templates as shipped; ROSTER_MAIL_TEMPLATES names a copy to edit.
TEMPLATES = Path(__file__).resolve().parent / "templates"
#: The web console as `make` builds it (ui/dist); the server serves it at /.
CONSOLE = Path(__file__).resolve().parent / "ui" / "dist"
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class ConfigurationError(Exception):
    """A setting that the server cannot run with; the message says which and how to fix it."""


def parse_duration(text: str, *, name: str) -> timedelta:
    """Seconds, or a number with s, m, h or d: "90", "15m", "8h", "7d"."""
    match = _DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        raise ConfigurationError(
            f"{name}={text!r} is not a duration: use seconds or a number with s, m, h or d, "
            "e.g. 7d."
        )
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def _count(
    env: dict[str, str], name: str, default: int, *, minimum: int = 1, maximum: int | None = None
) -> int:
    text = env.get(name, "").strip().replace("_", "")
    if not text:
        return default
    if not text.isdigit() or int(text) < minimum:
        raise ConfigurationError(
            f"{name}={env[name]!r} must be a whole number of at least {minimum}."
        )
    if maximum is not None and int(text) > maximum:
        raise ConfigurationError(f"{name}={env[name]!r} must be at most {maximum}.")
    return int(text)


def _rate(env: dict[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        rate = float(text)
    except ValueError:
        rate = -1.0
    if rate <= 0:
        raise ConfigurationError(f"{name}={text!r} must be a number above 0 (per second).")
    return rate


def _switch(env: dict[str, str], name: str, *, default: bool) -> bool:
    text = env.get(name, "").strip().lower()
    if not text:
        return default
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{name}={env[name]!r} must be on or off.")


@dataclass(frozen=True)
class Store:
    """Where events and read models live: one SQLite file or one PostgreSQL database."""

    url: str

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith(("postgresql://", "postgres://"))

    @property
    def shown_url(self) -> str:
        """The URL as printed and logged: a password in it is replaced by ***."""
        parts = urlsplit(self.url)
        if parts.password is None:
            return self.url
        host = parts.hostname or ""
        netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))

    @property
    def sqlite_path(self) -> str:
        return self.url.removeprefix("sqlite:///")

    def event_store_env(self) -> dict[str, str]:
        # Events in typed JSON, read by older versions' tagged JSON too (store.mapper).
        mapper = {"MAPPER_TOPIC": "store.mapper:EventMapper"}
        if not self.is_postgres:
            return {
                **mapper,
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "APPLICATION_RECORDER_TOPIC": "store.recorders:SQLiteRosterRecorder",
                "SQLITE_DBNAME": self.sqlite_path,
                "SQLITE_LOCK_TIMEOUT": "30",
            }
        parts = urlsplit(self.url)
        return {
            **mapper,
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "APPLICATION_RECORDER_TOPIC": "store.recorders:PostgresRosterRecorder",
            "POSTGRES_DBNAME": parts.path.lstrip("/") or "postgres",
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_POOL_SIZE": "5",
            "POSTGRES_LOCK_TIMEOUT": "10",
            "POSTGRES_CONNECT_TIMEOUT": "5",
            # A connection is checked as the pool hands it out: after a restart of the
            # database, the pool replaces those it finds dead instead of failing a call.
            "POSTGRES_PRE_PING": "y",
        }


@dataclass(frozen=True)
class Settings:
    store: Store
    jwt_secret: str | None
    jwt_public_key: str | None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_jwks_url: str | None = None
    jwt_profiles_claim: str = DEFAULT_PROFILES_CLAIM
    cors_origins: tuple[str, ...] = ()
    invitation_ttl: timedelta = timedelta(days=7)
    invitation_secret: str | None = None
    max_body_bytes: int = 1 << 20
    max_upload_bytes: int = 100 << 20
    max_concurrent_uploads: int = 4
    max_rows: int = 1_000_000
    import_inline_rows: int = 5_000
    import_lease: timedelta = timedelta(seconds=30)
    import_worker: bool = True
    expiry_sweep: timedelta = timedelta(seconds=30)
    smtp_url: str | None = None
    outbox_dir: str = "data/outbox"
    #: Where erasures append the ids of the keys they destroyed (store/ledger.py).
    erasure_ledger: str = "data/erasures.jsonl"
    mail_from: str = "Roster <no-reply@localhost>"
    mail_rate: float = 50.0
    portal_url: str = "http://127.0.0.1:8000/accept#token="
    mail_templates: str = str(TEMPLATES)
    mail_delivery: bool = True
    #: Off only to measure what sealing personal data costs: events are then written in
    #: the clear, and no one can be erased (README, "Erasure").
    encrypt_personal_data: bool = True
    max_subscriptions: int = 20
    console_dir: str = str(CONSOLE)
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        url = env.get("ROSTER_DATABASE_URL") or DEFAULT_DATABASE_URL
        if not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ConfigurationError(
                f"ROSTER_DATABASE_URL={url!r} is not supported: use sqlite:///path/to/file.db "
                "or postgresql://user:pass@host:port/db."
            )
        secret = env.get("ROSTER_JWT_SECRET") or None
        public_key = env.get("ROSTER_JWT_PUBLIC_KEY") or None
        jwks_url = env.get("ROSTER_JWT_JWKS_URL", "").strip() or None
        oidc_issuer = env.get("ROSTER_OIDC_ISSUER", "").strip().rstrip("/") or None
        # The local secret is for `make run` without an identity provider: with one, the
        # provider's keys verify tokens (found through its discovery document).
        no_key = secret is None and public_key is None and jwks_url is None
        if no_key and oidc_issuer is None and SECRET_FILE.exists():
            secret = SECRET_FILE.read_text().strip()
        smtp_url = env.get("ROSTER_SMTP_URL") or None
        if smtp_url is not None and not smtp_url.startswith(("smtp://", "smtps://")):
            raise ConfigurationError(
                f"ROSTER_SMTP_URL={smtp_url!r} is not supported: use "
                "smtp://user:pass@host:port (add ?starttls=true to upgrade) or smtps://…"
            )
        origins = tuple(
            o.strip() for o in env.get("ROSTER_CORS_ORIGINS", "").split(",") if o.strip()
        )
        return cls(
            store=Store(url),
            jwt_secret=secret,
            jwt_public_key=public_key,
            jwt_issuer=env.get("ROSTER_JWT_ISSUER") or None,
            jwt_audience=env.get("ROSTER_JWT_AUDIENCE") or None,
            jwt_jwks_url=jwks_url,
            jwt_profiles_claim=env.get("ROSTER_JWT_PROFILES_CLAIM", "").strip()
            or DEFAULT_PROFILES_CLAIM,
            cors_origins=origins,
            invitation_ttl=parse_duration(
                env.get("ROSTER_INVITATION_TTL", "7d"), name="ROSTER_INVITATION_TTL"
            ),
            invitation_secret=env.get("ROSTER_INVITATION_SECRET") or None,
            max_body_bytes=_count(env, "ROSTER_MAX_BODY_BYTES", 1 << 20),
            max_upload_bytes=_count(env, "ROSTER_MAX_UPLOAD_BYTES", 100 << 20),
            max_concurrent_uploads=_count(env, "ROSTER_MAX_CONCURRENT_UPLOADS", 4),
            # A row's user id holds the row number in 24 bits (domain.ids).
            max_rows=_count(env, "ROSTER_MAX_ROWS", 1_000_000, maximum=MAX_ROW_IDS),
            import_inline_rows=_count(env, "ROSTER_IMPORT_INLINE_ROWS", 5_000, minimum=0),
            import_lease=parse_duration(
                env.get("ROSTER_IMPORT_LEASE", "30s"), name="ROSTER_IMPORT_LEASE"
            ),
            import_worker=_switch(env, "ROSTER_IMPORT_WORKER", default=True),
            console_dir=env.get("ROSTER_CONSOLE_DIR") or str(CONSOLE),
            oidc_issuer=oidc_issuer,
            oidc_client_id=env.get("ROSTER_OIDC_CLIENT_ID", "").strip() or None,
            expiry_sweep=parse_duration(
                env.get("ROSTER_EXPIRY_SWEEP", "30s"), name="ROSTER_EXPIRY_SWEEP"
            ),
            smtp_url=smtp_url,
            outbox_dir=env.get("ROSTER_OUTBOX_DIR") or "data/outbox",
            erasure_ledger=env.get("ROSTER_ERASURE_LEDGER") or "data/erasures.jsonl",
            mail_from=env.get("ROSTER_MAIL_FROM") or "Roster <no-reply@localhost>",
            mail_rate=_rate(env, "ROSTER_MAIL_RATE", 50.0),
            portal_url=env.get("ROSTER_PORTAL_URL") or "http://127.0.0.1:8000/accept#token=",
            mail_templates=env.get("ROSTER_MAIL_TEMPLATES") or str(TEMPLATES),
            mail_delivery=_switch(env, "ROSTER_MAIL_DELIVERY", default=True),
            encrypt_personal_data=_switch(env, "ROSTER_ENCRYPT_PERSONAL_DATA", default=True),
            max_subscriptions=_count(env, "ROSTER_MAX_SUBSCRIPTIONS", 20),
        )

    def __post_init__(self) -> None:
        # Checked here rather than in from_env so that no copy (`replace`) escapes them.
        _check_oidc(self)
        _check_token_keys(self)
        for name, secret in (
            ("ROSTER_JWT_SECRET", self.jwt_secret),
            ("ROSTER_INVITATION_SECRET", self.invitation_secret),
        ):
            if secret is not None and len(secret.encode()) < MIN_SECRET_BYTES:
                raise ConfigurationError(
                    f"{name} must be at least {MIN_SECRET_BYTES} bytes long: generate one "
                    "with `openssl rand -base64 48`."
                )
        if not _CLAIM_PATH.match(self.jwt_profiles_claim):
            raise ConfigurationError(
                f"ROSTER_JWT_PROFILES_CLAIM={self.jwt_profiles_claim!r} is not a claim name: "
                "use a name such as roles, or a dotted path such as realm_access.roles."
            )

    @property
    def token_issuer(self) -> str | None:
        """The `iss` tokens must carry: ROSTER_JWT_ISSUER, else the OpenID Connect issuer."""
        return self.jwt_issuer or self.oidc_issuer

    @property
    def token_audience(self) -> str | None:
        """The `aud` tokens must carry: ROSTER_JWT_AUDIENCE, else the console's client id
        (the audience of the ID tokens the provider issues to the console)."""
        return self.jwt_audience or self.oidc_client_id

    @property
    def discovers_keys(self) -> bool:
        """No key is configured, but an OpenID Connect issuer: its keys are found through
        its discovery document (<issuer>/.well-known/openid-configuration)."""
        configured = self.jwt_secret or self.jwt_public_key or self.jwt_jwks_url
        return self.oidc_issuer is not None and not configured

    def invitation_key(self) -> bytes:
        """The key invitation tokens are derived from; each deployment has its own."""
        if self.invitation_secret:
            return self.invitation_secret.encode().ljust(32, b"\0")
        if self.jwt_secret:
            return hmac.new(
                self.jwt_secret.encode(), b"roster invitations", hashlib.sha256
            ).digest()
        raise ConfigurationError(
            "Set ROSTER_INVITATION_SECRET (at least 32 bytes, e.g. `openssl rand -base64 48`): "
            "with ROSTER_JWT_PUBLIC_KEY, ROSTER_JWT_JWKS_URL or ROSTER_OIDC_ISSUER there is no "
            "secret to derive invitation tokens from."
        )


_CLAIM_PATH = re.compile(r"^[A-Za-z0-9_:/-]+(\.[A-Za-z0-9_:/-]+)*$")
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


def secure_url(url: str) -> bool:
    """An https:// URL, or plain http on this machine: whoever can change what a key URL
    answers can sign tokens."""
    parts = urlsplit(url)
    local = parts.scheme == "http" and parts.hostname in _LOOPBACK
    return (parts.scheme == "https" and bool(parts.hostname)) or local


def _check_oidc(settings: Settings) -> None:
    """Sign-in with an identity provider needs both its issuer and the console's client id;
    its tokens are signed with its own keys, never with a secret shared with Roster."""
    issuer, client_id = settings.oidc_issuer, settings.oidc_client_id
    if issuer and not client_id:
        raise ConfigurationError(
            "Set ROSTER_OIDC_CLIENT_ID with ROSTER_OIDC_ISSUER: the client id the console is "
            "registered with at the identity provider (a public client, redirect URI "
            "<server>/oidc/callback)."
        )
    if client_id and not issuer:
        raise ConfigurationError(
            "Set ROSTER_OIDC_ISSUER with ROSTER_OIDC_CLIENT_ID: the identity provider's issuer "
            "URL, e.g. https://id.example.com/realms/acme (its discovery document is at "
            "<issuer>/.well-known/openid-configuration)."
        )
    if issuer is None:
        return
    parts = urlsplit(issuer)
    if not secure_url(issuer) or parts.query or parts.fragment:
        raise ConfigurationError(
            f"ROSTER_OIDC_ISSUER={issuer!r} must be an https:// URL without query or fragment "
            "(plain http only on localhost): whoever answers there decides which tokens pass."
        )
    if settings.jwt_secret:
        raise ConfigurationError(
            "Unset ROSTER_JWT_SECRET with ROSTER_OIDC_ISSUER: the identity provider signs its "
            "tokens with its own keys, which the server finds through the issuer (or set "
            "ROSTER_JWT_JWKS_URL or ROSTER_JWT_PUBLIC_KEY to name them)."
        )


def _check_token_keys(settings: Settings) -> None:
    """One way to verify tokens; with an identity provider's keys, the tokens it signs
    for other services must not pass: `iss` and `aud` are then required."""
    given = [
        name
        for name, value in (
            ("ROSTER_JWT_SECRET", settings.jwt_secret),
            ("ROSTER_JWT_PUBLIC_KEY", settings.jwt_public_key),
            ("ROSTER_JWT_JWKS_URL", settings.jwt_jwks_url),
        )
        if value
    ]
    if not given and settings.oidc_issuer:
        return  # the provider's keys, from its discovery document; iss and aud default
    if not given:
        raise ConfigurationError(
            "Set ROSTER_JWT_SECRET (HS256), ROSTER_JWT_PUBLIC_KEY (PEM) or "
            "ROSTER_JWT_JWKS_URL (an identity provider's keys), or ROSTER_OIDC_ISSUER with "
            "ROSTER_OIDC_CLIENT_ID (sign-in with an identity provider); `make run` generates a "
            "secret into data/ for local use."
        )
    if len(given) > 1:
        raise ConfigurationError(
            f"Set only one of {' and '.join(given)}: tokens are verified one way."
        )
    if settings.jwt_secret:
        return
    missing = [
        name
        for name, value in (
            ("ROSTER_JWT_ISSUER", settings.token_issuer),
            ("ROSTER_JWT_AUDIENCE", settings.token_audience),
        )
        if not value
    ]
    if missing:
        raise ConfigurationError(
            f"Set {' and '.join(missing)} with {given[0]}: a key that signs tokens for other "
            "services too must only let in the tokens issued for Roster (the issuer's URL and "
            "the audience Roster is registered with at the identity provider)."
        )
    if settings.jwt_jwks_url and not secure_url(settings.jwt_jwks_url):
        raise ConfigurationError(
            f"ROSTER_JWT_JWKS_URL={settings.jwt_jwks_url!r} must be an https:// URL "
            "(plain http only on localhost): whoever can change the keys can sign tokens."
        )
