"""Bearer tokens (JWT): verifying the ones callers present, and issuing them for local use."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from domain.profiles import Caller, Profile
from settings import DEFAULT_PROFILES_CLAIM, Settings
from signing_keys import DiscoveredKeySet, KeySet, PublicKey, UnknownKeyError

MAX_SUBJECT_LENGTH = 200
#: Characters a subject may not hold: it is written into the history, `createdBy` and
#: mail headers. Control (Cc), format (Cf: zero-width, bidi overrides), surrogate (Cs)
#: and line or paragraph separators (Zl, Zp).
_UNSAFE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


class AuthenticationError(Exception):
    """The token is missing, malformed, expired, wrongly signed or names unknown profiles."""


class TokenVerifier:
    """Checks bearer tokens against the configured key: an HS256 secret, a PEM public key
    (its type decides the algorithms), or an identity provider's JWKS (keys by `kid`), at
    ROSTER_JWT_JWKS_URL or, with only ROSTER_OIDC_ISSUER, at the `jwks_uri` of the issuer's
    discovery document. Building it loads and checks the key; ConfigurationError when it
    cannot be used."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._key_set: KeySet | None = None
        self._public_key: PublicKey | None = None
        if settings.jwt_jwks_url:
            self._key_set = KeySet(settings.jwt_jwks_url)
        elif settings.jwt_public_key:
            self._public_key = PublicKey.from_pem(settings.jwt_public_key)
        elif settings.discovers_keys and settings.oidc_issuer:
            self._key_set = DiscoveredKeySet(
                settings.oidc_issuer, check_issuer=settings.jwt_issuer is None
            )
        self._issuer = _accepted_issuers(settings)
        self._audience = settings.token_audience
        self._claim_path = settings.jwt_profiles_claim.split(".")
        # Roster's own claim holds profiles only: a name it does not know is a mistake.
        # An identity provider's roles or groups hold those of other services too.
        self._strict_profiles = settings.jwt_profiles_claim == DEFAULT_PROFILES_CLAIM

    # ------------------------------------------------------------ lifecycle (JWKS)

    def start(self) -> None:
        """Fetches an identity provider's keys and keeps them fresh (blocking: a thread)."""
        if self._key_set is not None:
            self._key_set.start()

    def stop(self) -> None:
        if self._key_set is not None:
            self._key_set.stop()

    # ------------------------------------------------------------ verifying

    async def authenticate(self, authorization: str | None) -> Caller:
        """`caller`, having first fetched the identity provider's keys again (in a thread)
        when the token names a key not known yet. For the async routes."""
        await self.learn_key(authorization)
        return self.caller(authorization)

    async def learn_key(self, authorization: str | None) -> None:
        """Makes the token's signing key known, if it can be, without blocking the loop."""
        if self._key_set is not None:
            await self._key_set.learn(_kid(authorization))

    def caller(self, authorization: str | None) -> Caller:
        """The caller that an `Authorization: Bearer <JWT>` value proves. Reads keys from
        memory only: safe to call on the event loop."""
        token = _bearer(authorization)
        key, algorithms = self._key_for(token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                issuer=self._issuer,
                audience=self._audience,
                options={
                    "require": ["exp", "sub"],
                    "verify_aud": self._audience is not None,
                    "enforce_minimum_key_length": True,
                },
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationError("The token has expired; get a new one.") from None
        except jwt.PyJWTError as error:
            # Every failure of PyJWT (InvalidKeyError from a key of another type included)
            # is the token's: it cannot be accepted.
            raise AuthenticationError(f"The token is not valid: {error}.") from None
        expires_at = datetime.fromtimestamp(claims["exp"], UTC)
        return Caller(
            subject=_subject(claims), profiles=self._profiles(claims), expires_at=expires_at
        )

    def _key_for(self, token: str) -> tuple[Any, list[str]]:
        if self._public_key is not None:
            return self._public_key.key, list(self._public_key.algorithms)
        if self._key_set is None:
            return self._settings.jwt_secret, ["HS256"]
        kid = _header(token).get("kid")
        try:
            jwk = self._key_set.key(kid)
        except UnknownKeyError as error:
            self._key_set.prompt(kid)
            raise AuthenticationError(str(error)) from None
        return jwk, [jwk.algorithm_name]

    def _profiles(self, claims: dict[str, Any]) -> frozenset[Profile]:
        claim = self._settings.jwt_profiles_claim
        names: Any = claims
        for part in self._claim_path:
            if names is None:
                break  # left out
            if not isinstance(names, dict):
                raise AuthenticationError(f"The token's '{claim}' claim must be a list of names.")
            names = names.get(part)
        if names is None and not self._strict_profiles:
            return frozenset()  # an identity provider leaves the claim out without roles
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise AuthenticationError(f"The token's '{claim}' claim must be a list of names.")
        unknown = sorted(set(names) - set(Profile))
        if unknown and self._strict_profiles:
            raise AuthenticationError(f"The token names unknown profiles: {', '.join(unknown)}.")
        return frozenset(Profile(n) for n in names if n in set(Profile))


def _accepted_issuers(settings: Settings) -> tuple[str, ...] | None:
    """The `iss` values a token may carry: ROSTER_JWT_ISSUER exactly, else the OpenID
    Connect issuer with or without a trailing slash (ROSTER_OIDC_ISSUER is read without
    one; some providers name themselves with one); None when `iss` is not checked."""
    if settings.jwt_issuer:
        return (settings.jwt_issuer,)
    if settings.oidc_issuer:
        return (settings.oidc_issuer, settings.oidc_issuer + "/")
    return None


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise AuthenticationError("Send a bearer token in the Authorization header.")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("Use the form 'Authorization: Bearer <token>'.")
    return token.strip()


def _header(token: str) -> dict[str, Any]:
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise AuthenticationError(f"The token is not valid: {error}.") from None


def _kid(authorization: str | None) -> object:
    """The `kid` header of the bearer token, or None when there is none to read."""
    try:
        return _header(_bearer(authorization)).get("kid")
    except AuthenticationError:
        return None


def _subject(claims: dict[str, Any]) -> str:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip() or len(subject) > MAX_SUBJECT_LENGTH:
        raise AuthenticationError(
            f"The token's 'sub' claim must be a non-empty string of at most "
            f"{MAX_SUBJECT_LENGTH} characters."
        )
    unsafe = sorted({c for c in subject if unicodedata.category(c) in _UNSAFE})
    if unsafe:
        named = ", ".join(f"U+{ord(c):04X}" for c in unsafe)
        raise AuthenticationError(
            f"The token's 'sub' claim holds control or invisible characters ({named}); "
            "ask its issuer for a subject of visible characters only."
        )
    return subject


def issue_token(
    settings: Settings, *, subject: str, profiles: list[Profile], ttl: timedelta
) -> str:
    """A token signed with the configured HS256 secret (for local use and tests)."""
    if not settings.jwt_secret:
        raise ValueError("Tokens can only be issued with ROSTER_JWT_SECRET (HS256) configured.")
    now = datetime.now(UTC)
    claims: dict[str, Any] = {"sub": subject, "iat": now, "exp": now + ttl}
    *outer, last = settings.jwt_profiles_claim.split(".")
    holder = claims
    for part in outer:
        holder = holder.setdefault(part, {})
    holder[last] = [str(p) for p in profiles]
    if settings.token_issuer:
        claims["iss"] = settings.token_issuer
    if settings.token_audience:
        claims["aud"] = settings.token_audience
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")
