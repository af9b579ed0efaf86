"""``[otel]`` of ``requirements.toml`` in ``configRequirements/read``, as the reference 0.171
reports it (probed on the binary with the same file): every ``OtelRequirements`` field,
``headers_helper`` and its refresh interval included, exporter header values redacted."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ServerFactory

REQUIREMENTS = """\
allowed_approval_policies = ["on-request"]

[otel]
environment = "prod"
log_user_prompt = false
headers_helper = "/usr/bin/helper"
headers_helper_refresh_interval_ms = 5000
span_attributes = { team = "x" }
trace_exporter = "none"
tool_result = { max_bytes = 100 }

[otel.exporter.otlp-http]
endpoint = "http://127.0.0.1:4318"
protocol = "json"
headers = { a = "secret" }

[otel.metrics_exporter.otlp-grpc]
endpoint = "http://127.0.0.1:4317"
tls = { ca-certificate = "/ca.pem" }
"""


async def test_otel_requirements(cfg_spawn: ServerFactory, system_config: Path) -> None:
    (system_config.parent / "requirements.toml").write_text(REQUIREMENTS)
    client = await cfg_spawn()
    requirements = (await client.request("configRequirements/read"))["requirements"]
    assert requirements["allowedApprovalPolicies"] == ["on-request"]
    assert requirements["otel"] == {
        "environment": "prod",
        "headers_helper": "/usr/bin/helper",
        "headers_helper_refresh_interval_ms": 5000,
        "log_agent_responses": None,
        "log_guardian_assessments": None,
        "log_sse_deltas": None,
        "log_user_prompt": False,
        "exporter": {"otlp-http": {"endpoint": "http://127.0.0.1:4318",
                                   "headers": {"a": "[redacted]"}, "protocol": "json",
                                   "tls": None}},
        "trace_exporter": "none",
        "metrics_exporter": {"otlp-grpc": {
            "endpoint": "http://127.0.0.1:4317", "headers": {},
            "tls": {"ca-certificate": "/ca.pem", "client-certificate": None,
                    "client-private-key": None}}},
        "span_attributes": {"team": "x"},
        "tracestate": None,
        "tool_result": {"max_bytes": 100},
    }
    assert "secret" not in str(requirements)
