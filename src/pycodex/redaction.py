"""Secrets never reach a log: the text of every log line goes through :func:`redact`.

Two nets. Known values: wherever a secret enters the process (an API key from the
environment or ``auth.json``, a ChatGPT token, a provider's configured header or query
values, a websocket capability token or JWT secret) it is registered with
:func:`register_secret`, and every occurrence of it (raw or JSON-escaped) is replaced.
Shapes: bearer/basic credentials, credential headers (``Authorization``, ``X-Api-Key``,
``Cookie``…), credential-named URL query parameters (``?token=``, ``api-key=``…) and
``sk-`` style keys are replaced whatever their value, so a secret that was never
registered (a wrong token a client sent, say) does not leak either.
"""

from __future__ import annotations

import json
import re
import threading

REDACTED = "<redacted>"
#: Shorter registered values are ignored (they would blank out ordinary words).
MIN_SECRET_LENGTH = 6

_CREDENTIAL_HEADER = re.compile(
    r"(?i)\b((?:proxy-)?authorization|x-api-key|api-key|openai-api-key|cookie|set-cookie)"
    r"(\\?[\"']?\s*[:=,]\s*\\?[\"']?\s*)"
    r"(?:(?:bearer|basic)\s+)?[^\s\"',;\\]+"
)
_CREDENTIAL = re.compile(r"(?i)\b(bearer|basic)(\s+)(?!<redacted>)[^\s\"',;\\]+")
_QUERY = re.compile(
    r"(?i)([?&;](?:access_token|id_token|refresh_token|token|api[-_]?key|key|secret|"
    r"password|passwd|auth|sig|signature|code|client_secret)=)[^&\s\"'#\\]+"
)
_API_KEY = re.compile(r"\b(sk-(?:proj-|ant-)?)[A-Za-z0-9_\-]{16,}")

_lock = threading.Lock()
_secrets: set[str] = set()
_known: re.Pattern[str] | None = None


def register_secret(value: str | None) -> None:
    """Never log ``value`` (ignored when empty or shorter than :data:`MIN_SECRET_LENGTH`)."""
    global _known
    if not value or len(value) < MIN_SECRET_LENGTH or value in _secrets:
        return
    with _lock:
        _secrets.add(value)
        alternatives = sorted(
            {form for secret in _secrets for form in (secret, json.dumps(secret)[1:-1])},
            key=len,
            reverse=True,
        )
        _known = re.compile("|".join(map(re.escape, alternatives)))


def redact(text: str) -> str:
    """``text`` with every registered secret and credential-shaped value replaced."""
    known = _known
    if known is not None:
        text = known.sub(REDACTED, text)
    text = _CREDENTIAL_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _CREDENTIAL.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _QUERY.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return _API_KEY.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
