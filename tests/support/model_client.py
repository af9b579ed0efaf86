"""A model client straight on the mock Responses API: its provider and the client."""

from __future__ import annotations

from typing import Any

import msgspec

from pycodex.core.model_client import ModelClient
from pycodex.core.providers import ProviderInfo, StaticTokenSource
from tests.support.mock_responses import MockResponses


def provider_for(mock: MockResponses, **kw: Any) -> ProviderInfo:
    base = ProviderInfo(
        id="mock",
        name="mock",
        base_url=mock.base_url,
        request_max_retries=0,
        stream_max_retries=0,
        stream_idle_timeout_ms=10_000,
    )
    return msgspec.structs.replace(base, **kw)


def client_for(mock: MockResponses, token: str | None = "sk-test", **kw: Any) -> ModelClient:
    return ModelClient(provider_for(mock, **kw), StaticTokenSource(token), backoff_base=0.01)
