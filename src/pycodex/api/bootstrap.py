"""Build the server state and collect start-up warnings (sent as ``configWarning``)."""

from __future__ import annotations

import logging
from typing import Any

from pycodex.api.context import AppState, Outgoing, ServerOptions

logger = logging.getLogger(__name__)


def create_app(options: ServerOptions, outgoing: Outgoing) -> AppState:
    options.codex_home.mkdir(parents=True, exist_ok=True)
    app = AppState(options, outgoing)
    app.startup_warnings_factory = _startup_warnings
    return app


#: Seconds after the first handshake before the warm-ups start, so that the requests a client
#: sends right behind ``initialize`` do not share the interpreter with them.
WARM_UP_DELAY = 0.5


def _startup_warnings(app: AppState) -> list[dict[str, Any]]:
    from pycodex.api.startup_checks import run_startup_checks

    warnings = run_startup_checks(app)
    import threading

    threading.Thread(target=_warm_up, args=(app,), name="warm-up-later", daemon=True).start()
    for warning in warnings:
        logger.warning("%s %s", warning["summary"], warning.get("details") or "")
    return warnings


def _warm_up(app: AppState) -> None:
    """On a worker thread, a moment after start-up: the thread index, then (once it is
    ready, so a cold build read from the files meanwhile does not compete with it for the
    GIL) the HTTP code and the engine. Requests needing them start them at once anyway."""
    import time

    time.sleep(WARM_UP_DELAY)
    from pycodex.api.threads import default_provider_endpoint, thread_manager, warm_up_model_client

    index = app.get(thread_manager).index
    index.warm_up_in_background()
    index.wait_ready()
    warm_up_model_client(default_provider_endpoint(app))
