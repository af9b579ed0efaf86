"""Fixtures of the engine's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.client import AppServerClient
from tests.support.exec import open_client
from tests.support.mock_responses import MockResponses


@pytest.fixture
async def client(codex_home: Path, workdir: Path, mock: MockResponses
                 ) -> AsyncIterator[AppServerClient]:
    """A spawned server on the mock provider with a bare HOME and bash (the tool tests'
    client, ``tests.support.exec.open_client``); its every message is checked at the end."""
    c = await open_client(codex_home, workdir, mock)
    yield c
    await c.close()
    c.assert_valid()
