"""pycodex: a Python implementation of the Codex app-server."""

import sys as _sys

# httpx imports its command-line tool (click, rich, pygments: ~100 ms and ~10 MB) whenever
# those happen to be installed; pycodex never uses it, and httpx works without it.
_sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

__version__ = "0.1.0"

#: The reference protocol version pycodex implements. Reported in ``userAgent`` and as the
#: ``cliVersion`` of new threads, because clients gate features on it.
PROTOCOL_VERSION = "0.171.0"

__all__ = ["PROTOCOL_VERSION", "__version__"]
