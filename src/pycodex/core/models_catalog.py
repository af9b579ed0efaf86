"""The bundled model catalog (``pycodex/data/models.json``) and per-model metadata.

``list_models(include_hidden)`` gives the picker order; ``get_model_info(slug)`` the
metadata that drives a turn (context window, reasoning defaults, tool flavours...).
Unknown slugs get conservative fallback metadata; :func:`lookup_model` also returns the
warning text the engine sends for them.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import msgspec


class ServiceTier(msgspec.Struct, frozen=True):
    id: str
    name: str
    description: str


class ModelUpgrade(msgspec.Struct, frozen=True):
    model: str
    migration_markdown: str | None = None
    upgrade_copy: str | None = None
    model_link: str | None = None


class TruncationPolicy(msgspec.Struct, frozen=True):
    """How tool output is cut before it is recorded: ``mode`` is ``"tokens"`` or
    ``"bytes"``."""

    mode: str = "bytes"
    limit: int = 10_000


class ModelInfo(msgspec.Struct, frozen=True):
    slug: str
    display_name: str
    description: str = ""
    hidden: bool = False
    supported_reasoning_efforts: tuple[str, ...] = ()
    default_reasoning_effort: str | None = None
    input_modalities: tuple[str, ...] = ("text", "image")
    upgrade: ModelUpgrade | None = None
    availability_nux: str | None = None
    model_specialty: str | None = None
    multi_agent_version: str | None = None
    service_tiers: tuple[ServiceTier, ...] = ()
    additional_speed_tiers: tuple[str, ...] = ()
    default_service_tier: str | None = None
    context_window: int | None = 272_000
    effective_context_window_percent: int = 95
    auto_compact_token_limit: int | None = None
    supports_reasoning_summaries: bool = False
    default_reasoning_summary: str = "auto"
    support_verbosity: bool = False
    default_verbosity: str | None = None
    shell_type: str = "unified_exec"
    apply_patch_tool_type: str | None = None
    web_search_tool_type: str = "text"
    truncation_policy: TruncationPolicy = msgspec.field(default_factory=TruncationPolicy)
    supports_parallel_tool_calls: bool = False
    #: True for metadata made up for a slug the catalog does not know.
    is_fallback: bool = False

    @property
    def effective_context_window(self) -> int | None:
        """The usable window (``modelContextWindow`` in token-usage notifications)."""
        if self.context_window is None:
            return None
        return self.context_window * self.effective_context_window_percent // 100

    @property
    def auto_compact_limit(self) -> int | None:
        """Token count at which the engine compacts: configured, else 90% of the window."""
        if self.auto_compact_token_limit is not None:
            return self.auto_compact_token_limit
        if self.context_window is None:
            return None
        return self.context_window * 9 // 10

    @property
    def supports_images(self) -> bool:
        return "image" in self.input_modalities


class Catalog(msgspec.Struct, frozen=True):
    models: tuple[ModelInfo, ...]
    default_model: str
    effort_descriptions: dict[str, str]

    def by_slug(self) -> dict[str, ModelInfo]:
        return {m.slug: m for m in self.models}


def _model_from_json(entry: dict[str, Any]) -> ModelInfo:
    upgrade = entry.get("upgrade")
    trunc = entry.get("truncation_policy") or {}
    return ModelInfo(
        slug=entry["slug"],
        display_name=entry.get("display_name") or entry["slug"],
        description=entry.get("description", ""),
        hidden=bool(entry.get("hidden", False)),
        supported_reasoning_efforts=tuple(entry.get("supported_reasoning_efforts") or ()),
        default_reasoning_effort=entry.get("default_reasoning_effort"),
        input_modalities=tuple(entry.get("input_modalities") or ("text", "image")),
        upgrade=ModelUpgrade(
            model=upgrade["model"],
            migration_markdown=upgrade.get("migration_markdown"),
            upgrade_copy=upgrade.get("upgrade_copy"),
            model_link=upgrade.get("model_link"),
        )
        if upgrade
        else None,
        availability_nux=(entry.get("availability_nux") or {}).get("message"),
        model_specialty=entry.get("model_specialty"),
        multi_agent_version=entry.get("multi_agent_version"),
        service_tiers=tuple(ServiceTier(**t) for t in entry.get("service_tiers") or ()),
        additional_speed_tiers=tuple(entry.get("additional_speed_tiers") or ()),
        default_service_tier=entry.get("default_service_tier"),
        context_window=entry.get("context_window"),
        effective_context_window_percent=int(entry.get("effective_context_window_percent", 95)),
        auto_compact_token_limit=entry.get("auto_compact_token_limit"),
        supports_reasoning_summaries=bool(entry.get("supports_reasoning_summaries", False)),
        default_reasoning_summary=entry.get("default_reasoning_summary") or "auto",
        support_verbosity=bool(entry.get("support_verbosity", False)),
        default_verbosity=entry.get("default_verbosity"),
        shell_type=entry.get("shell_type") or "unified_exec",
        apply_patch_tool_type=entry.get("apply_patch_tool_type"),
        web_search_tool_type=entry.get("web_search_tool_type") or "text",
        truncation_policy=TruncationPolicy(
            mode=trunc.get("mode", "bytes"), limit=int(trunc.get("limit", 10_000))
        ),
        supports_parallel_tool_calls=bool(entry.get("supports_parallel_tool_calls", False)),
    )


@cache
def catalog() -> Catalog:
    """The bundled catalog, parsed once per process."""
    text = (Path(__file__).parent.parent / "data" / "models.json").read_text(encoding="utf-8")
    raw = json.loads(text)
    defaults = raw.get("defaults") or {}
    models = tuple(_model_from_json({**defaults, **entry}) for entry in raw["models"])
    default = raw.get("default_model") or next(m.slug for m in models if not m.hidden)
    return Catalog(
        models=models,
        default_model=default,
        effort_descriptions=dict(raw.get("effort_descriptions") or {}),
    )


def list_models(include_hidden: bool = False) -> list[ModelInfo]:
    """Catalog models in picker order; hidden ones only when asked."""
    return [m for m in catalog().models if include_hidden or not m.hidden]


def default_model() -> str:
    """Slug of the model used when config sets none (the one ``model/list`` marks
    ``isDefault``)."""
    return catalog().default_model


def effort_description(effort: str) -> str:
    return catalog().effort_descriptions.get(effort, effort)


def fallback_model_info(slug: str) -> ModelInfo:
    """Metadata for a slug the catalog does not know: no reasoning effort default, "auto"
    reasoning summaries, no apply_patch tool, 272k window, byte-based truncation."""
    return ModelInfo(
        slug=slug,
        display_name=slug,
        supports_reasoning_summaries=True,
        default_reasoning_summary="auto",
        supports_parallel_tool_calls=True,
        truncation_policy=TruncationPolicy(mode="bytes", limit=10_000),
        is_fallback=True,
    )


def fallback_warning(slug: str) -> str:
    """The ``warning`` notification text for a slug with no metadata (matched by clients)."""
    return (
        f"Model metadata for `{slug}` not found. Defaulting to fallback metadata; "
        "this can degrade performance and cause issues."
    )


def find_model_info(slug: str) -> ModelInfo | None:
    return catalog().by_slug().get(slug)


def get_model_info(slug: str) -> ModelInfo:
    """Catalog metadata for ``slug``, or fallback metadata (``is_fallback``)."""
    return find_model_info(slug) or fallback_model_info(slug)


def lookup_model(slug: str) -> tuple[ModelInfo, str | None]:
    """``(info, warning)``: ``warning`` is set when fallback metadata was used."""
    info = find_model_info(slug)
    if info is not None:
        return info, None
    return fallback_model_info(slug), fallback_warning(slug)
