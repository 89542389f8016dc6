"""Bearer tokens (JWT): verifying the ones callers present, and issuing them for local use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from domain.profiles import Caller, Profile
from settings import Settings


class AuthenticationError(Exception):
    """The token is missing, malformed, expired, wrongly signed or names unknown profiles."""


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        if settings.jwt_public_key:
            self._key: Any = settings.jwt_public_key
            self._algorithms = ["RS256", "ES256"]
        else:
            self._key = settings.jwt_secret
            self._algorithms = ["HS256"]

    def caller(self, authorization: str | None) -> Caller:
        """The caller that an `Authorization: Bearer <JWT>` value proves."""
        if not authorization:
            raise AuthenticationError("Send a bearer token in the Authorization header.")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("Use the form 'Authorization: Bearer <token>'.")
        try:
            claims = jwt.decode(
                token.strip(),
                self._key,
                algorithms=self._algorithms,
                issuer=self._settings.jwt_issuer,
                audience=self._settings.jwt_audience,
                options={
                    "require": ["exp", "sub"],
                    "verify_aud": self._settings.jwt_audience is not None,
                },
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationError("The token has expired; get a new one.") from None
        except jwt.InvalidTokenError as error:
            raise AuthenticationError(f"The token is not valid: {error}.") from None
        expires_at = datetime.fromtimestamp(claims["exp"], UTC)
        return Caller(subject=_subject(claims), profiles=_profiles(claims), expires_at=expires_at)


def _subject(claims: dict[str, Any]) -> str:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip() or len(subject) > 200:
        raise AuthenticationError("The token's 'sub' claim must be a non-empty string.")
    return subject


def _profiles(claims: dict[str, Any]) -> frozenset[Profile]:
    names = claims.get("profiles")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise AuthenticationError("The token's 'profiles' claim must be a list of profile names.")
    unknown = sorted(set(names) - set(Profile))
    if unknown:
        raise AuthenticationError(f"The token names unknown profiles: {', '.join(unknown)}.")
    return frozenset(Profile(n) for n in names)


def issue_token(
    settings: Settings, *, subject: str, profiles: list[Profile], ttl: timedelta
) -> str:
    """A token signed with the configured HS256 secret (for local use and tests)."""
    if not settings.jwt_secret:
        raise ValueError("Tokens can only be issued with ROSTER_JWT_SECRET (HS256) configured.")
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": subject,
        "profiles": [str(p) for p in profiles],
        "iat": now,
        "exp": now + ttl,
    }
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")
