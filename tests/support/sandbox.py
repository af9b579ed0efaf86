"""Skip a test that runs commands under the bubblewrap sandbox where it cannot work."""

from __future__ import annotations

import pytest


def skip_unless_sandbox() -> None:
    """``pytest.skip`` with the reason when bubblewrap cannot create a sandbox here (user
    namespaces not allowed, say); the bundled ``bwrap`` makes it available otherwise."""
    from pycodex.core.sandbox import bwrap_problem

    problem = bwrap_problem()
    if problem is not None:
        pytest.skip(f"bubblewrap cannot sandbox here: {problem}")
