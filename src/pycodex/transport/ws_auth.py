"""WebSocket authentication: the ``--ws-*`` start-up flags and the check of the
``Authorization`` header at upgrade time.

Two modes: a capability token (an opaque shared secret; only its SHA-256 is kept and
compared in constant time) and a signed bearer token (an HS256 JWT checked against a
shared secret, with ``exp`` required and optional ``nbf``, issuer and audience checks).
Error texts are protocol: clients and scripts match on them.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import time
from dataclasses import dataclass
from typing import Any

from pycodex.redaction import register_secret

#: Default tolerance, in seconds, for ``exp`` and ``nbf``.
DEFAULT_CLOCK_SKEW = 30
#: Shortest accepted HS256 shared secret, in bytes (after trimming).
MIN_SECRET_BYTES = 32

_MODES = ("capability-token", "signed-bearer-token")
_I64 = (-(2**63), 2**63 - 1)

MISSING_TOKEN = "missing websocket bearer token"
INVALID_HEADER = "invalid authorization header"
INVALID_TOKEN = "invalid websocket bearer token"
INVALID_JWT = "invalid websocket jwt"
EXPIRED_JWT = "expired websocket jwt"
JWT_NOT_YET_VALID = "websocket jwt is not valid yet"
ISSUER_MISMATCH = "websocket jwt issuer mismatch"
AUDIENCE_MISMATCH = "websocket jwt audience mismatch"


class WsAuthConfigError(Exception):
    """A bad combination of ``--ws-*`` flags or an unusable secret file."""


class WsAuthError(Exception):
    """An upgrade request that fails authentication; ``str(exc)`` is the 401 body."""


@dataclass(frozen=True, repr=False)
class CapabilityTokenAuth:
    """Accept ``Bearer <token>`` whose SHA-256 equals ``token_sha256``."""

    token_sha256: bytes

    def __repr__(self) -> str:  # never leak the digest into logs
        return "CapabilityTokenAuth(<redacted>)"

    def check(self, token: str) -> None:
        digest = hashlib.sha256(token.encode()).digest()
        if not hmac.compare_digest(digest, self.token_sha256):
            raise WsAuthError(INVALID_TOKEN)


@dataclass(frozen=True, repr=False)
class SignedBearerAuth:
    """Accept ``Bearer <HS256 JWT>`` signed with ``secret``."""

    secret: bytes
    issuer: str | None = None
    audience: str | None = None
    max_clock_skew: int = DEFAULT_CLOCK_SKEW

    def __repr__(self) -> str:
        return f"SignedBearerAuth(issuer={self.issuer!r}, audience={self.audience!r})"

    def check(self, token: str, now: float | None = None) -> None:
        claims = _verified_claims(token, self.secret)
        exp, nbf = claims["exp"], claims.get("nbf")
        iss, aud = claims.get("iss"), claims.get("aud")
        if not _is_i64(exp) or (nbf is not None and not _is_i64(nbf)):
            raise WsAuthError(INVALID_JWT)
        if (iss is not None and not isinstance(iss, str)) or not _valid_audience(aud):
            raise WsAuthError(INVALID_JWT)
        current = int(time.time() if now is None else now)
        if current > exp + self.max_clock_skew:
            raise WsAuthError(EXPIRED_JWT)
        if nbf is not None and current < nbf - self.max_clock_skew:
            raise WsAuthError(JWT_NOT_YET_VALID)
        if self.issuer is not None and iss != self.issuer:
            raise WsAuthError(ISSUER_MISMATCH)
        if self.audience is not None:
            audiences = [aud] if isinstance(aud, str) else list(aud or [])
            if self.audience not in audiences:
                raise WsAuthError(AUDIENCE_MISMATCH)


WsAuth = CapabilityTokenAuth | SignedBearerAuth


def _is_i64(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and _I64[0] <= value <= _I64[1]


def _valid_audience(aud: Any) -> bool:
    if aud is None or isinstance(aud, str):
        return True
    return isinstance(aud, list) and all(isinstance(item, str) for item in aud)


def _verified_claims(token: str, secret: bytes) -> dict[str, Any]:
    """The claims of an HS256 JWS whose signature matches ``secret``, or :class:`WsAuthError`."""
    import jwt  # pyjwt; imported lazily, only signed-bearer mode needs it

    if "=" in token or token.count(".") != 2:  # unpadded base64url only
        raise WsAuthError(INVALID_JWT)
    try:
        payload = jwt.PyJWS().decode(token, secret, algorithms=["HS256"])
        claims = json.loads(payload)
    except (jwt.InvalidTokenError, ValueError):
        raise WsAuthError(INVALID_JWT) from None
    if not isinstance(claims, dict) or "exp" not in claims:
        raise WsAuthError(INVALID_JWT)
    return claims


def authorize(auth: WsAuth | None, header: str | bytes | None) -> None:
    """Check the ``Authorization`` header of an upgrade request; raise :class:`WsAuthError`."""
    if auth is None:
        return
    if header is None:
        raise WsAuthError(MISSING_TOKEN)
    try:
        raw = header if isinstance(header, bytes) else header.encode("latin-1")
        header = raw.decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise WsAuthError(INVALID_HEADER) from None
    scheme, sep, token = header.partition(" ")
    token = token.strip()
    if not sep or scheme.lower() != "bearer" or not token:
        raise WsAuthError(INVALID_HEADER)
    auth.check(token)


# -- start-up flags --------------------------------------------------------------------------

_SIGNED_ONLY = (
    "`--ws-shared-secret-file`, `--ws-issuer`, `--ws-audience`, and "
    "`--ws-max-clock-skew-seconds` require `--ws-auth signed-bearer-token`"
)


def load_ws_auth(args: Any) -> WsAuth | None:
    """Validate the ``--ws-*`` flags of ``args`` and read the secret files.

    Also refuses a non-loopback websocket listener without auth. Raises
    :class:`WsAuthConfigError` with the reference's texts.
    """
    mode = getattr(args, "ws_auth", None)
    token_file = getattr(args, "ws_token_file", None)
    token_sha = getattr(args, "ws_token_sha256", None)
    secret_file = getattr(args, "ws_shared_secret_file", None)
    issuer = getattr(args, "ws_issuer", None)
    audience = getattr(args, "ws_audience", None)
    skew = getattr(args, "ws_max_clock_skew_seconds", None)
    signed_flags = (secret_file, issuer, audience, skew)
    auth: WsAuth | None
    if mode is None:
        if any(v is not None for v in (token_file, token_sha, *signed_flags)):
            raise WsAuthConfigError(
                "websocket auth flags require `--ws-auth capability-token` or "
                "`--ws-auth signed-bearer-token`"
            )
        auth = None
    elif mode == "capability-token":
        if any(v is not None for v in signed_flags):
            raise WsAuthConfigError(_SIGNED_ONLY)
        auth = _capability(token_file, token_sha)
    elif mode == "signed-bearer-token":
        auth = _signed(token_file, token_sha, secret_file, issuer, audience, skew)
    else:
        raise WsAuthConfigError(f"unknown websocket auth mode `{mode}`; expected one of {_MODES}")
    _check_exposure(args, auth)
    return auth


def _capability(token_file: str | None, token_sha: str | None) -> CapabilityTokenAuth:
    if token_file is not None and token_sha is not None:
        raise WsAuthConfigError("`--ws-token-file` and `--ws-token-sha256` are mutually exclusive")
    if token_sha is not None:
        text = token_sha.strip()
        if len(text) != 64 or any(ch not in "0123456789abcdefABCDEF" for ch in text):
            raise WsAuthConfigError("--ws-token-sha256 must be a 64-character hex SHA-256 digest")
        return CapabilityTokenAuth(bytes.fromhex(text))
    if token_file is None:
        raise WsAuthConfigError(
            "`--ws-token-file` or `--ws-token-sha256` is required when "
            "`--ws-auth capability-token` is set"
        )
    token = _read_secret(token_file)
    return CapabilityTokenAuth(hashlib.sha256(token.encode()).digest())


def _signed(
    token_file: str | None,
    token_sha: str | None,
    secret_file: str | None,
    issuer: str | None,
    audience: str | None,
    skew: int | None,
) -> SignedBearerAuth:
    if token_file is not None or token_sha is not None:
        raise WsAuthConfigError(
            "`--ws-token-file` and `--ws-token-sha256` require `--ws-auth capability-token`, "
            "not `signed-bearer-token`"
        )
    if secret_file is None:
        raise WsAuthConfigError(
            "`--ws-shared-secret-file` is required when `--ws-auth signed-bearer-token` is set"
        )
    if skew is not None and skew < 0:
        raise WsAuthConfigError(
            f"invalid value '{skew}' for '--ws-max-clock-skew-seconds <SECONDS>': "
            "must not be negative"
        )
    secret = _read_secret(secret_file).encode()
    if len(secret) < MIN_SECRET_BYTES:
        raise WsAuthConfigError(
            f"signed websocket bearer secret {_absolute(secret_file)} must be at least "
            f"{MIN_SECRET_BYTES} bytes"
        )
    return SignedBearerAuth(
        secret, issuer, audience, DEFAULT_CLOCK_SKEW if skew is None else skew
    )


def _absolute(path: str) -> str:
    return os.path.abspath(path)


def _read_secret(path: str) -> str:
    """The trimmed UTF-8 content of ``path`` (relative paths resolve against the cwd)."""
    full = _absolute(path)
    try:
        with open(full, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise WsAuthConfigError(
            f"failed to read websocket auth secret {full}: {reason} (os error {exc.errno})"
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise WsAuthConfigError(
            f"failed to read websocket auth secret {full}: stream did not contain valid UTF-8"
        ) from None
    text = text.strip()
    if not text:
        raise WsAuthConfigError(f"websocket auth secret {full} must not be empty")
    register_secret(text)
    return text


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a literal IP) only accepts local connections."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def format_host_port(host: str, port: int) -> str:
    """``127.0.0.1:80`` / ``[::1]:80``."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _check_exposure(args: Any, auth: WsAuth | None) -> None:
    target: Any = getattr(args, "listen", None)
    if auth is not None or getattr(args, "stdio", False) or getattr(target, "kind", None) != "ws":
        return
    if not is_loopback(target.host):
        where = format_host_port(target.host, target.port)
        raise WsAuthConfigError(
            f"refusing to start non-loopback websocket listener {where} without auth; "
            "configure `--ws-auth capability-token` or `--ws-auth signed-bearer-token`"
        )
