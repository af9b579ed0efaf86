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


def _startup_warnings(app: AppState) -> list[dict[str, Any]]:
    from pycodex.api.startup_checks import run_startup_checks

    warnings = run_startup_checks(app)
    from pycodex.api.threads import thread_manager

    index = app.get(thread_manager).index
    index.warm_up_in_background()
    import threading

    from pycodex.api.threads import default_provider_endpoint, warm_up_model_client

    def warm_later() -> None:
        # Once the index is ready (a cold index build is read from the files meanwhile, and
        # must not compete with the warm-up for the GIL); opening a thread starts it at once.
        index.wait_ready()
        warm_up_model_client(default_provider_endpoint(app))

    threading.Thread(target=warm_later, name="warm-up-later", daemon=True).start()
    for warning in warnings:
        logger.warning("%s %s", warning["summary"], warning.get("details") or "")
    return warnings
