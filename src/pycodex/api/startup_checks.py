"""Checks run once at start-up; each problem becomes a ``configWarning``."""

from __future__ import annotations

from typing import Any

from pycodex.api.context import AppState


def run_startup_checks(app: AppState) -> list[dict[str, Any]]:
    warnings: list[dict[str, Any]] = []
    try:
        from pycodex.api.config import config_startup_warnings
    except ImportError:
        pass
    else:
        warnings.extend(config_startup_warnings(app))
    from pycodex.api.config import config_service
    from pycodex.config.mcp import parse_mcp_servers
    from pycodex.core.sandbox import sandbox_startup_warning

    effective = app.get(config_service).effective()
    warnings.extend({"summary": text, "details": None}
                    for text in parse_mcp_servers(effective)[1])
    mode = effective.get("sandbox_mode")
    warning = sandbox_startup_warning(mode if isinstance(mode, str) else None)
    if warning is not None:
        warnings.append(warning)
    return warnings
