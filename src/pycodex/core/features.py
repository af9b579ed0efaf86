"""The feature flags pycodex understands: its own registry (name, stage, default), and
each flag's state in a loaded configuration (``[features]`` in ``config.toml``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from pycodex.protocol.types.features import FeatureStage


class Feature(msgspec.Struct, frozen=True, kw_only=True):
    """One flag. Only ``beta`` flags carry user-facing copy."""

    name: str
    stage: FeatureStage
    default_enabled: bool
    display_name: str | None = None
    description: str | None = None
    announcement: str | None = None


#: Flags whose behaviour pycodex implements, in the order they are listed.
REGISTRY: tuple[Feature, ...] = (
    Feature(
        name="goals",
        stage="beta",
        default_enabled=False,
        display_name="Thread goals",
        description="Give a thread a standing objective that Codex keeps working toward.",
        announcement="",
    ),
    Feature(name="apps", stage="stable", default_enabled=True),
    Feature(name="plugins", stage="stable", default_enabled=True),
    Feature(name="remote_plugin", stage="stable", default_enabled=True),
    Feature(name="tool_suggest", stage="stable", default_enabled=True),
    Feature(name="memories", stage="underDevelopment", default_enabled=False),
    Feature(name="remote_control", stage="underDevelopment", default_enabled=False),
)

_BY_NAME = {feature.name: feature for feature in REGISTRY}


def lookup(name: str) -> Feature | None:
    return _BY_NAME.get(name)


def is_enabled(feature: Feature, config: Mapping[str, Any]) -> bool:
    """The flag's value in an effective config: ``features.<name>`` when it is a boolean,
    else the default."""
    table = config.get("features")
    value = table.get(feature.name) if isinstance(table, Mapping) else None
    return value if isinstance(value, bool) else feature.default_enabled


def enabled(name: str, config: Mapping[str, Any]) -> bool:
    """Whether the registered flag ``name`` is on in ``config`` (unknown names are off)."""
    feature = lookup(name)
    return feature is not None and is_enabled(feature, config)
