"""Permission profiles: the three built-ins every configuration has, then the user's
``[permissions.<id>]`` tables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

BUILTIN_IDS = (":read-only", ":workspace", ":danger-full-access")


class PermissionProfile(msgspec.Struct, frozen=True):
    id: str
    description: str | None
    allowed: bool


def list_profiles(config: Mapping[str, Any]) -> list[PermissionProfile]:
    """Built-ins first, then user profiles in the order ``config.toml`` declares them."""
    profiles = [PermissionProfile(pid, None, True) for pid in BUILTIN_IDS]
    user = config.get("permissions")
    if isinstance(user, Mapping):
        for pid, table in user.items():
            if not isinstance(table, Mapping) or pid in BUILTIN_IDS:
                continue
            description = table.get("description")
            profiles.append(
                PermissionProfile(
                    str(pid), description if isinstance(description, str) else None, True
                )
            )
    return profiles
