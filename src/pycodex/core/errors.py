"""The engine's error tree: what went wrong, said once, independent of the wire.

::

    CodexError                 base: a request the engine cannot carry out
    ├── NotFound               the thing named does not exist (thread, turn…)
    ├── InvalidInput           the request itself is wrong (bad value, wrong state for it)
    │   └── TurnNotActive      a steer that cannot join the running turn
    ├── Conflict               valid, but clashes with what is running now
    └── Unavailable            a dependency failed (client gone, provider, sandbox…)

``data`` carries machine-readable detail. ``pycodex.api.errors`` maps each class to its
JSON-RPC error in one place; the engine never spells an error code.
"""

from __future__ import annotations

from typing import Any


class CodexError(Exception):
    """Base of the engine's errors; ``message`` is the client-facing text."""

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data


class NotFound(CodexError):
    """The named object does not exist."""


class InvalidInput(CodexError):
    """The request is wrong as given."""


class TurnNotActive(InvalidInput):
    """A steer that cannot join the running turn. ``data`` is the ``reason`` plus the ids,
    or the reference's ``TurnError`` shape for a turn that cannot be steered."""


class Conflict(CodexError):
    """The request is valid but clashes with the current state (e.g. a running turn)."""


class Unavailable(CodexError):
    """Something the request needs is not available."""
