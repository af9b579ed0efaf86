"""Auth helpers: unsigned ChatGPT id tokens."""

from __future__ import annotations

import base64
import json
from typing import Any


def make_jwt(
    email: str | None = "dev@example.com",
    plan: str | None = "pro",
    account: str | None = "acc-1",
    user: str | None = "user-9",
    **extra: Any,
) -> str:
    auth: dict[str, Any] = {}
    if plan is not None:
        auth["chatgpt_plan_type"] = plan
    if account is not None:
        auth["chatgpt_account_id"] = account
    if user is not None:
        auth["chatgpt_user_id"] = user
    claims: dict[str, Any] = {"https://api.openai.com/auth": auth, **extra}
    if email is not None:
        claims["email"] = email
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.sig"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
