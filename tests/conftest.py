"""Shared fixtures: a fresh CODEX_HOME and servers (in-process by default, spawned where the
process matters) that are always cleaned up and whose every message is checked against the
reference schema."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.client import AppServerClient
from tests.support.inprocess import InProcessClient, config_overrides
from tests.support.mock_responses import MockResponses
from tests.support.turns import start_thread


@pytest.fixture(autouse=True)
def user_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
              ) -> Path:
    """Every test runs with an empty home of its own: the machine's dotfiles (a login
    shell's ``.bashrc``, user skills, other agents' configs) never reach a test, and a
    command killed mid-start-up cannot leave a stale lock behind in the real home (a
    pyenv ``.bashrc`` rehash lock made every later ``bash -lc`` wait 60 s)."""
    home = tmp_path_factory.mktemp("user-home")
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def codex_home(tmp_path: Path) -> Path:
    home = tmp_path / "codex-home"
    home.mkdir()
    return home


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    return work


ServerFactory = Callable[..., Awaitable[AppServerClient]]

#: Options only a spawned process can honour.
PROCESS_OPTIONS = ("env", "command")

#: ``PYCODEX_TEST_SERVER=process`` spawns every server (to compare both modes).
ALWAYS_SPAWN = os.environ.get("PYCODEX_TEST_SERVER") == "process"


@pytest.fixture
async def spawn(codex_home: Path) -> AsyncIterator[ServerFactory]:
    """``await spawn(initialize=True)`` → a started client of a fresh server.

    The server runs in the test's process (``cwd`` and ``-c key=value`` args become its
    options) unless the test asks for a process (``process=True``) or passes what only a
    process honours (``env``, ``command``, other flags): tests of stdio framing, logging,
    signals and flags.
    ``PYCODEX_TEST_SERVER=process`` in the environment spawns every server.
    """
    clients: list[AppServerClient] = []

    async def factory(
        *,
        initialize: bool = True,
        home: Path | None = None,
        process: bool = False,
        **kw: Any,
    ) -> AppServerClient:
        client: AppServerClient
        overrides = config_overrides(tuple(kw.get("args") or ()))
        if (
            process
            or ALWAYS_SPAWN
            or overrides is None
            or any(kw.get(name) is not None for name in PROCESS_OPTIONS)
        ):
            client = AppServerClient(home or codex_home, **kw)
        else:
            kw.pop("args", None)
            client = InProcessClient(home or codex_home, overrides=overrides, **kw)
        clients.append(client)
        await client.start()
        if initialize:
            await client.initialize()
        return client

    yield factory
    for client in clients:
        await client.close()
    for client in clients:
        client.assert_valid()


@pytest.fixture
async def server(spawn: ServerFactory) -> AppServerClient:
    return await spawn()


@pytest.fixture
def mock() -> Iterator[MockResponses]:
    """The project's mock Responses API, one per test (the one definition: a module that
    needs it set up differently overrides it with a fixture of the same name taking it)."""
    with MockResponses() as server:
        yield server


@pytest.fixture
def ref_dirs() -> Iterator[tuple[Path, Path]]:
    """A CODEX_HOME and a workdir outside /tmp (the reference wants its home there)."""
    base = Path.home() / ".cache" / "pycodex-mcp-conformance"
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=base) as tmp:
        home, work = Path(tmp) / "home", Path(tmp) / "work"
        home.mkdir()
        work.mkdir()
        yield home, work


@pytest.fixture
def system_config(tmp_path: Path) -> Path:
    """Where the server looks for the system layer (and managed/requirements files)."""
    etc = tmp_path / "etc-codex"
    etc.mkdir()
    return etc / "config.toml"


@pytest.fixture
def cfg_spawn(spawn: ServerFactory, system_config: Path) -> ServerFactory:
    async def factory(**kw: Any) -> AppServerClient:
        env = {"PYCODEX_SYSTEM_CONFIG": str(system_config), **kw.pop("env", {})}
        return await spawn(env=env, **kw)

    return factory


@pytest.fixture
async def opened(spawn: ServerFactory, codex_home: Path, workdir: Path, tmp_path: Path,
                 mock: MockResponses, monkeypatch: pytest.MonkeyPatch
                 ) -> tuple[AppServerClient, str]:
    """A server on the mock model with a read-only sandbox, initialized as the TUI is
    (experimental), and a thread of it."""
    # user shell commands run in a login shell: keep this machine's profile out of it
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (codex_home / "config.toml").write_text(
        'model = "gpt-5.5"\nmodel_provider = "mock"\napproval_policy = "never"\n'
        'sandbox_mode = "read-only"\n\n'
        + mock.provider_toml(env_key=None, experimental_bearer_token="k"))
    client = await spawn(initialize=False)
    await client.initialize(experimental=True)  # as the TUI
    return client, await start_thread(client, workdir)
