"""Validate what the server sends against the reference JSON Schema bundle."""

from __future__ import annotations

import gzip
import json
from functools import cache
from typing import Any

import jsonschema
import pytest

from pycodex.protocol.codegen import RESPONSE_NAMES
from pycodex.protocol.types import server_notifications, server_requests
from tests.support.manifest import PENDING_ELSEWHERE
from tests.support.paths import DATA, ROOT

SHARED = ROOT.parent / "shared"
#: The reference 0.171.0 bundles (``codex app-server generate-json-schema [--experimental]``,
#: copied from the spec).
BUNDLE = DATA / "codex_app_server_protocol.experimental.0171.schemas.json.gz"
STABLE_BUNDLE = DATA / "codex_app_server_protocol.stable.0171.schemas.json.gz"


@cache
def bundle() -> dict[str, Any]:
    with gzip.open(BUNDLE) as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


@cache
def _unions() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(client request method → params ref, notification method → params ref,
    server request method → params ref)."""
    defs = bundle()["definitions"]

    def table(name: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for variant in defs[name]["oneOf"]:
            props = variant.get("properties", {})
            method = props.get("method", {}).get("enum", [None])[0]
            params = props.get("params", {})
            ref = params.get("$ref") if isinstance(params, dict) else None
            if method:
                out[method] = ref or ""
        return out

    return table("ClientRequest"), table("ServerNotification"), table("ServerRequest")


def _resolve_def(name: str) -> str | None:
    defs = bundle()["definitions"]
    if name in defs.get("v2", {}):
        return f"#/definitions/v2/{name}"
    if name in defs:
        return f"#/definitions/{name}"
    return None


#: Methods whose response type is not named after their params type.
RESPONSE_OVERRIDES = {
    "config/value/write": "ConfigWriteResponse",
    "config/batchWrite": "ConfigWriteResponse",
    "configRequirements/read": "ConfigRequirementsReadResponse",
    "account/rateLimits/read": "GetAccountRateLimitsResponse",
    "account/logout": "LogoutAccountResponse",
    "modelProvider/default/set": "ConfigWriteResponse",
    "account/gatewayOAuth/read": "GatewayOAuthReadResponse",
    "account/gatewayOAuth/login": "GatewayOAuthLoginResponse",
    "account/gatewayOAuth/cancel": "GatewayOAuthCancelResponse",
    "account/securitySetup/read": "GetAccountSecuritySetupResponse",
    "account/usage/read": "GetAccountTokenUsageResponse",
    "account/workspaceMessages/read": "GetWorkspaceMessagesResponse",
    "windowsSandbox/readiness": "WindowsSandboxReadinessResponse",
    "externalAgentConfig/import/readHistories": "ExternalAgentConfigImportHistoriesReadResponse",
    **RESPONSE_NAMES,
}


#: Methods the reference serves but whose types exist only in its TypeScript bindings.
TS_ONLY_RESPONSES: dict[str, dict[str, Any]] = {
    "getAuthStatus": {
        "type": "object",
        "properties": {
            "authMethod": {"type": ["string", "null"],
                           "enum": ["apikey", "chatgpt", "chatgptAuthTokens", None]},
            "authToken": {"type": ["string", "null"]},
            "requiresOpenaiAuth": {"type": ["boolean", "null"]},
        },
        "additionalProperties": False,
    },
}


def response_ref(method: str) -> str | None:
    if method in TS_ONLY_RESPONSES:
        return f"ts-only:{method}"
    if method in RESPONSE_OVERRIDES:
        return _resolve_def(RESPONSE_OVERRIDES[method])
    requests, _, _ = _unions()
    params_ref = requests.get(method)
    if not params_ref:
        return None
    name = _ref_name(params_ref)
    if not name.endswith("Params"):
        return None
    return _resolve_def(name[: -len("Params")] + "Response")


def server_request_response_ref(method: str) -> str | None:
    _, _, requests = _unions()
    params_ref = requests.get(method)
    if not params_ref:
        return None
    return _resolve_def(_ref_name(params_ref)[: -len("Params")] + "Response")


def known_notification(method: str) -> bool:
    return method in _unions()[1]


@cache
def _validator(ref: str) -> jsonschema.Draft7Validator:
    if ref.startswith("ts-only:"):
        return jsonschema.Draft7Validator(TS_ONLY_RESPONSES[ref.split(":", 1)[1]])
    schema = {"$ref": ref, "definitions": bundle()["definitions"]}
    return jsonschema.Draft7Validator(schema)


def _errors(ref: str, value: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}"
        for e in _validator(ref).iter_errors(value)
    ]


def validate_response(method: str, result: Any) -> list[str]:
    ref = response_ref(method)
    if ref is None:
        return [f"no response schema known for {method}"]
    return _errors(ref, result)


def in_table(union: str, method: str) -> bool:
    """Whether pycodex's method table lists ``method`` (or another branch is adding it)."""
    table = server_notifications() if union == "ServerNotification" else server_requests()
    return method in table or method in PENDING_ELSEWHERE[union]


def validate_notification(method: str, params: Any) -> list[str]:
    _, notifications, _ = _unions()
    ref = notifications.get(method)
    if ref is None:
        return [f"unknown notification method {method}"]
    if not in_table("ServerNotification", method):
        return [f"notification method {method} is not in pycodex's method table"]
    return _errors(ref, params) if ref else []


def validate_server_request(method: str, params: Any) -> list[str]:
    _, _, requests = _unions()
    ref = requests.get(method)
    if ref is None:
        return [f"unknown server request method {method}"]
    if not in_table("ServerRequest", method):
        return [f"server request method {method} is not in pycodex's method table"]
    return _errors(ref, params) if ref else []


def validate_error(error: Any) -> list[str]:
    return _errors("#/definitions/JSONRPCErrorError", error)


def errors_0171(name: str, value: Any) -> list[str]:
    """``value`` checked against the 0.171 type ``name`` (thread/revert is new in 0.171)."""
    if not BUNDLE_0171.exists():
        pytest.skip(f"{BUNDLE_0171} is not available")
    return [e.message for e in _validator_0171(name).iter_errors(value)]


BUNDLE_0171 = STABLE_BUNDLE


@cache
def _validator_0171(name: str) -> jsonschema.Draft7Validator:
    with gzip.open(BUNDLE_0171) as fh:
        definitions = json.load(fh)["definitions"]
    return jsonschema.Draft7Validator({"$ref": f"#/definitions/v2/{name}",
                                       "definitions": definitions})
