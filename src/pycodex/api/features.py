"""``experimentalFeature/list|enablement/set`` and ``permissionProfile/list``."""

from __future__ import annotations

from pycodex.api.config import config_service
from pycodex.api.config_writes import write_user_config
from pycodex.api.context import RequestContext
from pycodex.api.models import paginate
from pycodex.api.router import route
from pycodex.core import features
from pycodex.core.permission_profiles import list_profiles
from pycodex.protocol.types.features import (
    ExperimentalFeature,
    ExperimentalFeatureEnablementSetParams,
    ExperimentalFeatureEnablementSetResponse,
    ExperimentalFeatureListParams,
    ExperimentalFeatureListResponse,
    PermissionProfileListParams,
    PermissionProfileListResponse,
    PermissionProfileSummary,
)


@route("experimentalFeature/list")
async def experimental_feature_list(
    ctx: RequestContext, params: ExperimentalFeatureListParams
) -> ExperimentalFeatureListResponse:
    config = ctx.app.get(config_service).effective()
    registry = features.REGISTRY
    start, end = paginate(len(registry), params.cursor, params.limit)
    return ExperimentalFeatureListResponse(
        data=[
            ExperimentalFeature(
                name=f.name,
                stage=f.stage,
                display_name=f.display_name,
                description=f.description,
                announcement=f.announcement,
                enabled=features.is_enabled(f, config),
                default_enabled=f.default_enabled,
            )
            for f in registry[start:end]
        ],
        next_cursor=str(end) if end < len(registry) else None,
    )


@route("experimentalFeature/enablement/set")
async def experimental_feature_enablement_set(
    ctx: RequestContext, params: ExperimentalFeatureEnablementSetParams
) -> ExperimentalFeatureEnablementSetResponse:
    """Registered flags are written to ``[features]`` in the user ``config.toml`` (so the
    choice survives a restart); names pycodex does not know are left out of the answer,
    as the reference leaves out every name it does not switch."""
    applied = {
        name: value for name, value in params.enablement.items() if features.lookup(name)
    }
    if applied:
        await write_user_config(ctx, [(f"features.{n}", v) for n, v in applied.items()])
    return ExperimentalFeatureEnablementSetResponse(enablement=applied)


@route("permissionProfile/list")
async def permission_profile_list(
    ctx: RequestContext, params: PermissionProfileListParams
) -> PermissionProfileListResponse:
    service = ctx.app.get(config_service)
    cwd = service.resolve_cwd(params.cwd) if params.cwd is not None else None
    profiles = list_profiles(service.effective(cwd))
    start, end = paginate(len(profiles), params.cursor, params.limit)
    return PermissionProfileListResponse(
        data=[PermissionProfileSummary(id=p.id, description=p.description, allowed=p.allowed)
              for p in profiles[start:end]],
        next_cursor=str(end) if end < len(profiles) else None,
    )
