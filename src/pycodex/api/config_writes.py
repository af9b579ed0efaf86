"""Edits of the user ``config.toml`` made on behalf of a non-config method (feature
switches, model providers, plugins): one write, reloaded by loaded threads, answered with
the ``config/value/write`` errors."""

from __future__ import annotations

from typing import Any

from pycodex.api.config import config_service
from pycodex.api.context import RequestContext
from pycodex.config.service import ConfigError, ConfigWriteError, Edit
from pycodex.protocol.errors import internal_error, invalid_request


async def write_user_config(ctx: RequestContext, edits: list[tuple[str, Any]]) -> dict[str, Any]:
    """Apply ``(key path, value)`` edits (``None`` removes the key); the
    ``ConfigWriteResponse``."""
    try:
        return await ctx.app.get(config_service).write(
            [Edit(path, value, "replace") for path, value in edits], reload_user_config=True)
    except ConfigWriteError as exc:
        raise invalid_request(exc.message, {"config_write_error_code": exc.code}) from None
    except (ConfigError, OSError) as exc:
        raise internal_error(str(exc)) from None
