"""The method table is the single source of truth: every method pycodex lists has a handler,
exists in the reference, and takes params of the same shape (required fields agree), and
the generated JSON Schema / TypeScript cover it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from pycodex.api.router import handlers
from pycodex.protocol.reference_order import REFERENCE_METHOD_ORDER
from pycodex.protocol.types import client_requests
from tests.support import schema

# Served although the 0.169.0 JSON unions lack them (see docs/conformance.md).
NOT_IN_REFERENCE_UNION = {"thread/rollback", "getAuthStatus"}


def test_every_method_has_a_handler_and_exists_in_the_reference() -> None:
    table = client_requests()
    registered = handlers()
    missing = [m for m in table if m not in registered]
    assert missing == []
    unknown = [m for m in table if m not in REFERENCE_METHOD_ORDER
               and m not in NOT_IN_REFERENCE_UNION]
    assert unknown == []


@pytest.mark.parametrize("method", sorted(client_requests()))
def test_required_params_agree_with_the_reference(method: str) -> None:
    spec = client_requests()[method]
    requests, _, _ = schema._unions()
    ref = requests.get(method)
    if spec.params is None or not ref:
        return
    definitions = schema.bundle()["definitions"]
    name = ref.rsplit("/", 1)[-1]
    ref_schema = definitions.get("v2", {}).get(name) or definitions.get(name) or {}
    if "properties" not in ref_schema:  # a tagged union (e.g. login params)
        return
    reference_required = set(ref_schema.get("required", []))
    info = msgspec.inspect.type_info(spec.params)
    ours = {f.encode_name for f in info.fields}
    ours_required = {f.encode_name for f in info.fields if f.required}
    assert reference_required <= ours, f"{method}: reference requires fields pycodex lacks"
    assert ours_required <= reference_required, f"{method}: pycodex requires optional fields"


def test_generated_schema_and_typescript_cover_the_methods(tmp_path: Path) -> None:
    out = tmp_path / "schema"
    ts = tmp_path / "ts"
    for tool, target in (("generate-json-schema", out), ("generate-ts", ts)):
        subprocess.run([sys.executable, "-m", "pycodex", "app-server", tool, "--out",
                        str(target), "--experimental"], check=True, timeout=60)
    bundle = json.loads((out / "codex_app_server_protocol.schemas.json").read_text())
    union = bundle["definitions"]["ClientRequest"]["oneOf"]
    listed = {v["properties"]["method"]["enum"][0] for v in union}
    assert listed == set(client_requests())
    client_ts = (ts / "ClientRequest.ts").read_text()
    for method in client_requests():
        assert f'"method": "{method}"' in client_ts
    assert (ts / "index.ts").exists() and (ts / "InitializeParams.ts").exists()
