"""``requirements.toml``: admin constraints reported by ``configRequirements/read``.

Read from ``requirements.toml`` in the system config directory (``/etc/codex``, or the
directory of ``PYCODEX_SYSTEM_CONFIG``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pycodex.config.toml_io import read_toml

_NETWORK_FIELDS = {
    "enabled": "enabled",
    "http_port": "httpPort",
    "socks_port": "socksPort",
    "allow_upstream_proxy": "allowUpstreamProxy",
    "dangerously_allow_non_loopback_proxy": "dangerouslyAllowNonLoopbackProxy",
    "dangerously_allow_all_unix_sockets": "dangerouslyAllowAllUnixSockets",
    "domains": "domains",
    "managed_allowed_domains_only": "managedAllowedDomainsOnly",
    "unix_sockets": "unixSockets",
    "allow_local_binding": "allowLocalBinding",
    "danger_full_access_denylist_only": "dangerFullAccessDenylistOnly",
}


def load_requirements(path: Path) -> dict[str, Any] | None:
    """The raw requirements table, or ``None`` when the file is absent or empty."""
    table = read_toml(path)
    return table or None


def feature_pins(raw: dict[str, Any] | None) -> dict[str, bool]:
    features = (raw or {}).get("features")
    if not isinstance(features, dict):
        return {}
    return {k: v for k, v in features.items() if isinstance(v, bool)}


def _strings(value: Any) -> list[str] | None:
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return None


def _network(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    out: dict[str, Any] = {wire: raw.get(key) for key, wire in _NETWORK_FIELDS.items()}
    domains = raw.get("domains")
    if isinstance(domains, dict):
        out["allowedDomains"] = [k for k, v in domains.items() if v == "allow"]
        out["deniedDomains"] = [k for k, v in domains.items() if v == "deny"]
    else:
        out["allowedDomains"] = out["deniedDomains"] = None
    sockets = raw.get("unix_sockets")
    if isinstance(sockets, dict):
        out["allowUnixSockets"] = [k for k, v in sockets.items() if v == "allow"]
    else:
        out["allowUnixSockets"] = None
    return out


#: ``[otel]`` keys reported as they are (booleans and strings); the exporters and the
#: tables are shaped below.
_OTEL_PLAIN = ("environment", "headers_helper", "headers_helper_refresh_interval_ms",
               "log_agent_responses", "log_guardian_assessments", "log_sse_deltas",
               "log_user_prompt")
_OTEL_EXPORTERS = ("exporter", "trace_exporter", "metrics_exporter")
_TLS_KEYS = ("ca-certificate", "client-certificate", "client-private-key")
REDACTED = "[redacted]"


def _otel_exporter(raw: Any) -> Any:
    """An ``OtelExporter``: ``"none"``/``"statsig"``, or an OTLP endpoint whose header
    values are redacted (the names stay), as the reference reports it."""
    if isinstance(raw, str) or not isinstance(raw, dict) or len(raw) != 1:
        return raw if isinstance(raw, str) else None
    (kind, table), = raw.items()
    if kind not in ("otlp-http", "otlp-grpc") or not isinstance(table, dict):
        return None
    headers = table.get("headers")
    tls = table.get("tls")
    out: dict[str, Any] = {
        "endpoint": table.get("endpoint"),
        "headers": {str(name): REDACTED for name in headers} if isinstance(headers, dict)
        else {},
        "tls": {key: tls.get(key) for key in _TLS_KEYS} if isinstance(tls, dict) else None,
    }
    if kind == "otlp-http":
        out["protocol"] = table.get("protocol", "binary")
    return {kind: out}


def _otel(raw: Any) -> dict[str, Any] | None:
    """The ``OtelRequirements`` of an ``[otel]`` table."""
    if not isinstance(raw, dict):
        return None
    out: dict[str, Any] = {key: raw.get(key) for key in _OTEL_PLAIN}
    out.update({key: _otel_exporter(raw.get(key)) for key in _OTEL_EXPORTERS})
    attributes = raw.get("span_attributes")
    out["span_attributes"] = ({str(k): str(v) for k, v in attributes.items()}
                              if isinstance(attributes, dict) else None)
    tracestate = raw.get("tracestate")
    out["tracestate"] = tracestate if isinstance(tracestate, dict) else None
    tool_result = raw.get("tool_result")
    out["tool_result"] = ({"max_bytes": tool_result.get("max_bytes")}
                          if isinstance(tool_result, dict) else None)
    return out


def requirements_wire(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``ConfigRequirements`` object, or ``None`` when nothing is required."""
    if not raw:
        return None
    web_search = _strings(raw.get("allowed_web_search_modes"))
    if web_search is not None and "disabled" not in web_search:
        web_search.append("disabled")
    sandbox = _strings(raw.get("allowed_sandbox_modes"))
    if sandbox is not None:
        sandbox = [mode for mode in sandbox if mode != "external-sandbox"]
    pins = feature_pins(raw)
    residency = raw.get("enforce_residency")
    return {
        "allowedApprovalPolicies": _strings(raw.get("allowed_approval_policies")),
        "allowedApprovalsReviewers": _strings(raw.get("allowed_approvals_reviewers")),
        "allowedSandboxModes": sandbox,
        "allowedWebSearchModes": web_search,
        "featureRequirements": pins or None,
        "enforceResidency": residency if residency == "us" else None,
        "network": _network(raw.get("network") or raw.get("experimental_network")),
        "otel": _otel(raw.get("otel")),
    }
