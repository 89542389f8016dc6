"""The keys that bearer tokens are checked against: a PEM public key, or an identity
provider's JSON Web Key Set (JWKS) kept in memory and refreshed in the background, at a
configured URL or at the `jwks_uri` of an OpenID Connect provider's discovery document.

A key decides the algorithms: an RSA key verifies RS* and PS* signatures, an EC key the
ES* algorithm of its curve, an Ed25519/Ed448 key EdDSA. No HMAC algorithm is ever
accepted with a public key (the key-confusion attack: a public key used as a secret).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt import PyJWK, PyJWKClient

from jobs.loop import BackgroundLoop
from settings import ConfigurationError, secure_url

log = logging.getLogger("roster.tokens")

MIN_RSA_BITS = 2048
RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
#: The key set is fetched again this often, so that rotated keys arrive before use.
JWKS_REFRESH_SECONDS = 300.0
#: A token whose `kid` is not in the set fetches it again at once, at most this often:
#: tokens with made-up kids cannot make the server hammer the identity provider.
UNKNOWN_KID_SECONDS = 30.0
#: After a failed fetch, the next one is tried after 1 s, then 2, 4, … up to this.
RETRY_MAX_SECONDS = 60.0
FETCH_TIMEOUT_SECONDS = 5.0
MAX_KID_LENGTH = 200
#: Where an OpenID Connect provider describes itself, below its issuer URL.
DISCOVERY_PATH = "/.well-known/openid-configuration"
#: A discovery document is a few kilobytes; more is not one.
MAX_DISCOVERY_BYTES = 1 << 20
_HEADERS = {"User-Agent": "roster", "Accept": "application/json"}


@dataclass(frozen=True)
class PublicKey:
    """A configured PEM public key and the algorithms its type signs with."""

    key: Any
    algorithms: tuple[str, ...]

    @classmethod
    def from_pem(cls, pem: str) -> PublicKey:
        if "PRIVATE KEY" in pem:
            raise ConfigurationError(
                "ROSTER_JWT_PUBLIC_KEY holds a private key: give the public key only "
                "(`openssl pkey -in private.pem -pubout`), and keep the private key secret."
            )
        if "CERTIFICATE" in pem:
            raise ConfigurationError(
                "ROSTER_JWT_PUBLIC_KEY holds a certificate: give its public key "
                "(`openssl x509 -in cert.pem -pubkey -noout`)."
            )
        try:
            key = serialization.load_pem_public_key(pem.strip().encode())
        except (ValueError, TypeError) as error:
            raise ConfigurationError(
                "ROSTER_JWT_PUBLIC_KEY is not a PEM public key (-----BEGIN PUBLIC KEY-----…): "
                f"{error}"
            ) from None
        return cls(key, _algorithms(key))


def _algorithms(key: Any) -> tuple[str, ...]:
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise ConfigurationError(
                f"ROSTER_JWT_PUBLIC_KEY is a {key.key_size}-bit RSA key: use at least "
                f"{MIN_RSA_BITS} bits."
            )
        return RSA_ALGORITHMS
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in EC_ALGORITHMS:
            raise ConfigurationError(
                f"ROSTER_JWT_PUBLIC_KEY is an EC key on {key.curve.name}: use P-256, P-384 "
                "or P-521."
            )
        return (EC_ALGORITHMS[key.curve.name],)
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return ("EdDSA",)
    raise ConfigurationError(
        f"ROSTER_JWT_PUBLIC_KEY is a {type(key).__name__}, which cannot verify tokens: use an "
        "RSA, EC (P-256, P-384, P-521) or Ed25519 key."
    )


class UnknownKeyError(Exception):
    """No key of the set has the token's `kid`; the message says why."""


class KeySet(BackgroundLoop):
    """An identity provider's signing keys by `kid`, read from memory only.

    The set is fetched at start-up (the server starts even when that fails) and then
    every JWKS_REFRESH_SECONDS in a thread; a failed fetch keeps the keys already known,
    so tokens keep verifying while the provider is briefly down, and is retried with a
    growing pause. A token with an unknown `kid` fetches the set again (`learn`, in a
    thread, never on the event loop), at most once every UNKNOWN_KID_SECONDS.
    PyJWT's PyJWKClient does the fetching (no redirects, http and https only) and PyJWK
    the parsing. PyJWKClient's own cache is not used: it fetches while a token is checked
    (here on the event loop), and once expired it fails every token while the provider
    is down.
    """

    def __init__(self, url: str) -> None:
        super().__init__("jwks-refresh", JWKS_REFRESH_SECONDS)
        #: Where the keys are fetched from (named in the log when a fetch fails).
        self.url = url
        self._client: PyJWKClient | None = None
        self._keys: dict[str, PyJWK] = {}
        self._fetching = threading.RLock()
        self._last_try = float("-inf")
        self._last_asked = float("-inf")  # the last fetch for an unknown kid
        self._last_error: str | None = None
        self._failures = 0
        self._prompted = False

    # ------------------------------------------------------------ reading

    def key(self, kid: object) -> PyJWK:
        """The key with this `kid`, from memory; UnknownKeyError when there is none. A
        token without `kid` (None) is checked with the set's key when it holds only one:
        OpenID Connect requires `kid` only of a provider with several keys."""
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        if kid is None and not self._keys and self._last_error is not None:
            raise UnknownKeyError(
                "The identity provider's keys could not be fetched (the server log says why); "
                "try again shortly."
            )
        if not isinstance(kid, str) or not kid or len(kid) > MAX_KID_LENGTH:
            raise UnknownKeyError(
                "The token has no usable 'kid' header naming the identity provider's key "
                "that signed it."
            )
        found = self._keys.get(kid)
        if found is not None:
            return found
        if self._last_error is not None:
            raise UnknownKeyError(
                f"The token is signed with a key (kid {kid!r}) that is not known yet, and "
                "the identity provider's keys could not be fetched (the server log says "
                "why); try again shortly."
            )
        raise UnknownKeyError(
            f"The token is signed with a key (kid {kid!r}) that the identity provider does "
            "not publish."
        )

    def wants(self, kid: object) -> bool:
        """Whether fetching the set again might bring this `kid` now."""
        return (
            isinstance(kid, str)
            and 0 < len(kid) <= MAX_KID_LENGTH
            and kid not in self._keys
            and time.monotonic() - self._last_asked >= UNKNOWN_KID_SECONDS
        )

    async def learn(self, kid: object) -> None:
        """Fetches the set again, in a thread, when the token names a `kid` not known yet
        and the last fetch is long enough ago."""
        if self.wants(kid):
            await anyio.to_thread.run_sync(self._refresh_for, kid)

    # ------------------------------------------------------------ fetching

    def prompt(self, kid: object) -> None:
        """Has the loop fetch the set soon for this `kid` (where waiting is no option)."""
        if self.wants(kid):
            self._prompted = True
            self.wake()

    def start(self) -> None:
        """One fetch now, so that the server is ready when it says so, then the loop."""
        self.refresh()
        super().start()

    def run_once(self) -> bool:
        due = time.monotonic() - self._last_try >= self.poll_seconds
        if due or self._prompted:
            if self._prompted:
                self._last_asked = time.monotonic()
                self._prompted = False
            self.refresh()
        return False

    def _refresh_for(self, kid: object) -> None:
        with self._fetching:  # one fetch for many requests that name the same new kid
            if self.wants(kid):
                self._last_asked = time.monotonic()
                self.refresh()

    def refresh(self) -> None:
        with self._fetching:
            self._last_try = time.monotonic()
            try:
                fetched = self._fetch()
            except Exception as error:  # unreachable, not JSON, reset mid-answer: the host's
                self._failed(str(error) or type(error).__name__)
                return
            entries = fetched.get("keys")
            found = [_signing_key(e) for e in entries] if isinstance(entries, list) else []
            keys = {key.key_id: key for key in found if key is not None and key.key_id}
            if not keys:
                self._failed("the set holds no public signing key with a 'kid'")
                return
            self._keys = keys
            self._last_error = None
            self._failures = 0
            self.poll_seconds = JWKS_REFRESH_SECONDS

    def _fetch(self) -> Any:
        """The key set as the provider serves it (blocking)."""
        if self._client is None:
            self._client = PyJWKClient(
                self.url, cache_jwk_set=False, timeout=FETCH_TIMEOUT_SECONDS, headers=_HEADERS
            )
        return self._client.fetch_data()

    def _failed(self, reason: str) -> None:
        self._last_error = reason
        self._failures += 1
        self.poll_seconds = min(RETRY_MAX_SECONDS, 2.0 ** (self._failures - 1))
        log.warning(
            "Could not fetch the token keys from %s (%s); %d keys stay in use, next try in %.0f s.",
            self.url,
            reason,
            len(self._keys),
            self.poll_seconds,
        )


class DiscoveredKeySet(KeySet):
    """An OpenID Connect provider's keys, at the `jwks_uri` that its discovery document
    (<issuer>/.well-known/openid-configuration) names.

    The document is read by the first fetch (at start-up, in a thread), and until it has
    been read it is tried again like a failed fetch of the keys: the server starts while the
    provider is down, and takes its keys once it answers. Then only the keys are fetched
    again. The `jwks_uri` must be https (plain http only on this machine), like a configured
    ROSTER_JWT_JWKS_URL; an `issuer` in the document other than the configured one is
    logged, since the tokens it issues will then be refused.
    """

    def __init__(self, issuer: str, *, check_issuer: bool = True) -> None:
        super().__init__(issuer.rstrip("/") + DISCOVERY_PATH)
        self.issuer = issuer
        self._check_issuer = check_issuer
        self._discovered = False

    def _fetch(self) -> Any:
        if not self._discovered:
            self.url = self._discover()
            self._discovered = True
        return super()._fetch()

    def _discover(self) -> str:
        document = fetch_json(self.url)
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri:
            raise DiscoveryError(f"the discovery document at {self.url} names no jwks_uri")
        if not secure_url(jwks_uri):
            raise DiscoveryError(
                f"the discovery document at {self.url} names the jwks_uri {jwks_uri!r}, "
                "which is not https (plain http only on localhost)"
            )
        named = document.get("issuer")
        if self._check_issuer and named != self.issuer and named != self.issuer + "/":
            log.warning(
                "The discovery document at %s names the issuer %r, not %r: its tokens will "
                "be refused. Set ROSTER_OIDC_ISSUER to the issuer the provider names.",
                self.url,
                named,
                self.issuer,
            )
        log.info("Token keys: %s (from %s).", jwks_uri, self.url)
        return jwks_uri


class DiscoveryError(Exception):
    """The discovery document cannot be used; the message says why."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is answered as the error it then is


def fetch_json(url: str) -> dict[str, Any]:
    """A JSON object from an http(s) URL, without following redirects (blocking)."""
    if not url.startswith(("https://", "http://")):
        raise DiscoveryError(f"{url!r} is not an http(s) URL")
    request = urllib.request.Request(url, headers=_HEADERS)  # noqa: S310 (http(s) only, above)
    opener = urllib.request.build_opener(_NoRedirects())
    with opener.open(request, timeout=FETCH_TIMEOUT_SECONDS) as response:
        body = response.read(MAX_DISCOVERY_BYTES + 1)
    if len(body) > MAX_DISCOVERY_BYTES:
        raise DiscoveryError(f"{url} answers with more than {MAX_DISCOVERY_BYTES} bytes")
    try:
        document = json.loads(body)
    except ValueError:
        raise DiscoveryError(f"{url} does not answer with JSON") from None
    if not isinstance(document, dict):
        raise DiscoveryError(f"{url} does not answer with a JSON object")
    return document


def _signing_key(entry: object) -> PyJWK | None:
    """A public signing key of the set, or None for one that is not (or is unusable:
    skipped, so that one odd key does not cost the others)."""
    if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
        return None
    if not isinstance(entry.get("kid"), str):
        return None
    try:
        key = PyJWK(entry)
    except Exception:  # PyJWT raises more than its own errors for odd keys ("alg": "none")
        return None
    # A symmetric ("oct") key in a public set would let anyone who reads the set sign
    # tokens: only public keys are taken.
    if key.algorithm_name.startswith("HS") or key.algorithm_name == "none":
        return None
    return key
