"""The method table is the contract for everything that leaves the server: it lists every
method of the reference 0.171 with full types (served or only published), its types match the
reference schema, the generated JSON Schema / TypeScript publish it in the reference's union
layout, unserved methods answer as unknown variants, and every method maps to a test."""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
import pytest

from pycodex.api.router import handlers
from pycodex.protocol import codegen
from pycodex.protocol.codegen import flat_definitions, load_bundle, unions
from pycodex.protocol.reference_order import REFERENCE_METHOD_ORDER
from pycodex.protocol.schema_export import collect_types, iter_struct_classes, members
from pycodex.protocol.types import (
    FAMILIES,
    PUBLISHED_FAMILIES,
    client_requests,
    published_requests,
    server_notifications,
    server_requests,
)
from tests.support import manifest, paths, schema
from tests.support.client import AppServerClient

ROOT = paths.ROOT
#: Served although the 0.171.0 JSON unions lack them (see docs/conformance.md).
NOT_IN_REFERENCE_UNION = {"thread/rollback", "getAuthStatus"}
UNIONS = ("ClientRequest", "ServerNotification", "ServerRequest")

#: Fields of hand-written types owned by other engineers that the 0.171 schema has and the
#: type lacks (type → missing properties). Those engineers complete them on their branches;
#: the lead shrinks this after merging. Nothing may be added here for contract-owned types.
KNOWN_MISSING_FIELDS: dict[str, set[str]] = {
    "ThreadStartParams": {"allowProviderModelFallback", "daybreakEnabled", "environments",
                          "historyMode", "multiAgentMode", "permissions", "projectId",
                          "runtimeWorkspaceRoots", "selectedCapabilityRoots", "threadSource"},
    "ThreadResumeParams": {"initialTurnsPage", "permissions", "runtimeWorkspaceRoots"},
    "ThreadResumeResponse": {"collaborationMode", "initialTurnsPage", "itemsBackwardsCursor",
                             "turnsBackwardsCursor"},
    "ThreadForkParams": {"attachToSource", "beforeTurnId", "deferGoalContinuation",
                         "experimentalDisablePredictionMcp", "experimentalPredictionMode",
                         "lastTurnId", "permissions", "runtimeWorkspaceRoots", "threadSource"},
    "ThreadMetadataUpdateParams": {"daybreakEnabled", "projectId"},
    "ThreadListParams": {"ancestorThreadId", "attachedToThreadId", "currentAccountOnly",
                         "excludedThreadIds", "includeAttachedThreads", "includedThreadIds",
                         "originators", "parentThreadId", "projectId", "useStateDbOnly"},
    "ThreadListResponse": {"readStates"},
    "ThreadReadResponse": {"readState"},
    "TurnStartParams": {"additionalContext", "cyberAccessProgram", "disabledPluginIds",
                        "environments", "multiAgentMode", "parentTurnId", "permissions",
                        "responsesapiClientMetadataPatch", "rootTurnId",
                        "runtimeWorkspaceRoots", "serviceTierForTurn", "toolOutput",
                        "turnTrigger"},
    "TurnSteerParams": {"additionalContext", "clientUserMessageId",
                        "responsesapiClientMetadataPatch"},
    "ItemStartedNotification": {"startedAtMs"},
    "ItemCompletedNotification": {"completedAtMs", "contentTokenCount"},
}
#: pycodex-only fields of hand-written types owned by others (not in the 0.171 schema).
KNOWN_EXTRA_FIELDS: dict[str, set[str]] = {
    "ThreadStartParams": {"persistExtendedHistory"},
    "ThreadResumeParams": {"persistExtendedHistory"},
    "ThreadForkParams": {"persistExtendedHistory", "personality"},
}
#: Experimental fields of hand-written types owned by others that lack their
#: ``__experimental__`` mark, so the stable export still lists them (owners: mark them).
KNOWN_STABLE_LEAKS: dict[str, set[str]] = {
    "Thread": {"attachedToThreadId", "canAcceptDirectInput", "daybreakEnabled", "environments",
               "extra"},
}
#: Reference types msgspec cannot express (a union of untagged objects): published as "any".
UNTYPED = {"AccountSessionsSwitchResponse"}


@cache
def reference(kind: str) -> dict[str, list[str]]:
    """Union → methods of the reference 0.171 ``kind`` ("stable"/"experimental") bundle."""
    return {u: [m for m, _ in rows] for u, rows in unions(reference_bundle(kind)).items()}


@cache
def reference_bundle(kind: str) -> dict[str, Any]:
    path = paths.DATA / f"codex_app_server_protocol.{kind}.0171.schemas.json.gz"
    return load_bundle(path)


@cache
def reference_definitions(kind: str) -> dict[str, Any]:
    return flat_definitions(reference_bundle(kind))


def table(union: str) -> set[str]:
    if union == "ClientRequest":
        return set(published_requests())
    return set(server_notifications() if union == "ServerNotification" else server_requests())


def test_dispatch_imports_no_published_only_family() -> None:
    """Families of PUBLISHED_FAMILIES serve nothing (the server never imports them), and
    every generated family is listed there or in FAMILIES."""
    for family in PUBLISHED_FAMILIES:
        module = importlib.import_module(f"pycodex.protocol.types.{family}")
        assert [s.name for s in module.REQUESTS if s.served] == [], f"move {family} to FAMILIES"
    assert set(codegen.FAMILIES) <= {*FAMILIES, *PUBLISHED_FAMILIES}
    names = [f"pycodex.protocol.types.{family}" for family in PUBLISHED_FAMILIES]
    code = ("import sys\nfrom pycodex.protocol.types import client_requests\n"
            f"client_requests()\nprint(sorted(set(sys.modules) & set({names!r})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.strip() == "[]"


def test_served_methods_have_handlers_and_unserved_ones_none() -> None:
    registered = handlers()
    served = [m for m in client_requests() if m != "initialize"]
    assert [m for m in served if m not in registered] == []
    unserved = [m for m, s in published_requests().items() if not s.served]
    assert [m for m in unserved if m in registered] == [], "set served=True for these"


@pytest.mark.parametrize("union", UNIONS)
def test_table_lists_every_reference_method(union: str) -> None:
    """Table + methods other branches are adding == the reference 0.171 union (+ pycodex
    extras); the two never overlap."""
    ours = table(union)
    pending = manifest.PENDING_ELSEWHERE[union]
    assert ours & pending == set(), "merged: remove these from PENDING_ELSEWHERE"
    expected = set(reference("experimental")[union])
    extras = NOT_IN_REFERENCE_UNION if union == "ClientRequest" else set()
    assert sorted(expected - ours - pending) == []
    assert sorted(ours - expected - extras) == []


def test_experimental_flags_follow_the_reference() -> None:
    stable = set(reference("stable")["ClientRequest"])
    wrong = [m for m, s in published_requests().items()
             if m not in NOT_IN_REFERENCE_UNION and s.experimental == (m in stable)]
    assert wrong == []
    assert set(REFERENCE_METHOD_ORDER) == set(reference("experimental")["ClientRequest"])


# -- types against the reference schema ---------------------------------------------------
Shape = dict[str, tuple[frozenset[str], frozenset[str], frozenset[str]]]
TAG_FIELDS = ("type", "mode", "kind", "status", "method", "outcome")


def shape(node: Any, resolve: Any) -> Shape:
    """Object variants of a schema: tag (or "-") → (properties, required, nullable)."""
    node = resolve(node)
    if not isinstance(node, dict):
        return {}
    variants = node.get("oneOf") or node.get("anyOf")
    if variants:
        out: Shape = {}
        for variant in variants:
            variant = resolve(variant)
            if not isinstance(variant, dict):
                continue
            if "properties" in node:  # shared fields flattened into every variant
                variant = {**variant,
                           "properties": {**node["properties"], **variant.get("properties", {})},
                           "required": [*node.get("required", []), *variant.get("required", [])]}
            out.update(shape(variant, resolve))
        return out
    if "properties" not in node and not (
        node.get("type") == "object" and not isinstance(node.get("additionalProperties"), dict)
    ):
        return {}
    props = node.get("properties", {})
    tag = "-"
    for name in TAG_FIELDS:
        prop = props.get(name)
        if isinstance(prop, dict) and len(prop.get("enum", [])) == 1:
            tag = f"{name}={prop['enum'][0]}"
            break
    nullable = frozenset(k for k, v in props.items() if _allows_null(resolve(v), resolve))
    return {tag: (frozenset(props), frozenset(node.get("required", [])), nullable)}


def _allows_null(node: Any, resolve: Any) -> bool:
    if not isinstance(node, dict) or not node:
        return True  # "any value"
    types = node.get("type")
    if types == "null" or (isinstance(types, list) and "null" in types):
        return True
    if None in node.get("enum", [object()]):
        return True
    return any(_allows_null(resolve(v), resolve) for v in node.get("anyOf", ()))


def resolver(definitions: dict[str, Any]) -> Any:
    def resolve(node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            node = definitions[node["$ref"].rsplit("/", 1)[-1]]
        return node

    return resolve


def our_shape(tp: Any) -> Shape:
    (root,), components = msgspec.json.schema_components([tp], ref_template="#/c/{name}")
    return shape(root, resolver(components))


def type_cases() -> list[tuple[str, Any, str, bool]]:
    """(label, pycodex type, reference type name, decoded by pycodex) for every typed method
    of the table."""
    cases: list[tuple[str, Any, str, bool]] = []
    requests, notifications, server = schema._unions()
    for method, spec in published_requests().items():
        if spec.params is not None and requests.get(method):
            cases.append((f"{method} params", spec.params, requests[method].rsplit("/", 1)[-1],
                          True))
        ref = schema.response_ref(method)
        if spec.result is not None and ref and not ref.startswith("ts-only:"):
            cases.append((f"{method} result", spec.result, ref.rsplit("/", 1)[-1], False))
    for method, tp in server_notifications().items():
        if notifications.get(method):
            cases.append((f"{method} notification", tp,
                          notifications[method].rsplit("/", 1)[-1], False))
    for method, sreq in server_requests().items():
        cases.append((f"{method} params", sreq.params, server[method].rsplit("/", 1)[-1], False))
        ref = schema.server_request_response_ref(method)
        if ref:
            cases.append((f"{method} result", sreq.result, ref.rsplit("/", 1)[-1], True))
    return cases


@pytest.mark.parametrize(("label", "tp", "ref_name", "decoded"), type_cases(),
                         ids=[c[0] for c in type_cases()])
def test_published_types_match_the_reference(
    label: str, tp: Any, ref_name: str, decoded: bool
) -> None:
    """Every variant has the reference's property names (all stable ones; experimental ones
    may be present) and requires what the reference requires. What pycodex decodes requires
    nothing more; what it sends may always send a field the reference lets be absent."""
    if ref_name in UNTYPED:
        assert our_shape(tp) == {}
        return
    stable_defs = reference_definitions("stable")
    exp_defs = reference_definitions("experimental")
    exp = shape(exp_defs[ref_name], resolver(exp_defs))
    stable = shape(stable_defs[ref_name], resolver(stable_defs)) if ref_name in stable_defs else {}
    ours = our_shape(tp)
    assert set(stable) <= set(ours) <= set(exp), f"{label}: union variants differ"
    name = ref_name
    for tag, (props, required, _) in ours.items():
        ref_props, ref_required, _ = exp[tag]
        stable_props = stable[tag][0] if tag in stable else frozenset()
        missing = stable_props - props - KNOWN_MISSING_FIELDS.get(name, set())
        assert missing == set(), f"{label} {tag}: lacks {sorted(missing)}"
        extra = props - ref_props - KNOWN_EXTRA_FIELDS.get(name, set())
        assert extra == set(), f"{label} {tag}: not in the reference: {sorted(extra)}"
        assert ref_required & props <= required, f"{label} {tag}: optional required fields"
        if decoded:
            loose = required - ref_required
            assert loose == set(), f"{label} {tag}: requires optional fields {sorted(loose)}"


#: Hand-written family modules this contract owns (the generated ones are owned too).
CONTRACT_MODULES = {"initialize", "config", "models", "account", "misc", "command_exec", "fs",
                    "external_agent", *codegen.FAMILIES}


def _props(node_shape: Shape) -> frozenset[str]:
    return frozenset().union(*(props for props, _, _ in node_shape.values()))


@pytest.mark.parametrize(
    "cls",
    sorted((c for c in iter_struct_classes(collect_types(experimental=True))
            if c.__module__.rsplit(".", 1)[-1] in CONTRACT_MODULES
            and c.__name__ in reference_definitions("experimental")),
           key=lambda c: c.__name__),
    ids=lambda c: c.__name__,
)
def test_nested_contract_types_have_the_reference_fields(cls: type) -> None:
    """Every contract-owned struct named like a reference type (at any depth) has all its
    stable fields and only fields the reference has."""
    exp_defs, stable_defs = reference_definitions("experimental"), reference_definitions("stable")
    name = cls.__name__
    ours = _props(our_shape(cls))
    exp = _props(shape(exp_defs[name], resolver(exp_defs)))
    stable = _props(shape(stable_defs[name], resolver(stable_defs))) if name in stable_defs \
        else frozenset()
    assert sorted(stable - ours) == [], "missing"
    assert sorted(ours - exp) == [], "not in the reference"


def test_decoded_types_require_no_more_than_the_reference() -> None:
    """No struct pycodex decodes (request params, server-request answers, at any depth)
    requires a field the reference lets clients leave out."""
    roots = [m for spec in published_requests().values() if spec.params is not None
             for m in members(spec.params)]
    roots += [m for sreq in server_requests().values() for m in members(sreq.result)]
    exp_defs = reference_definitions("experimental")
    strict = []
    for cls in iter_struct_classes(roots):
        if cls.__name__ not in exp_defs:
            continue
        reference_shape = shape(exp_defs[cls.__name__], resolver(exp_defs))
        for tag, (_, required, _) in our_shape(cls).items():
            if tag in reference_shape and required - reference_shape[tag][1]:
                strict.append(f"{cls.__name__} {tag}: {sorted(required - reference_shape[tag][1])}")
    assert strict == []


def sample(info: Any, depth: int = 0) -> Any:
    """A minimal JSON document of a msgspec type: required fields only, one list element."""
    mi = msgspec.inspect
    if isinstance(info, mi.StructType):
        out = {info.tag_field: info.tag} if info.tag_field else {}
        out.update({f.encode_name: sample(f.type, depth + 1) for f in info.fields if f.required})
        return out
    if isinstance(info, mi.UnionType):
        members = [t for t in info.types if not isinstance(t, mi.NoneType)]
        return sample(members[0], depth) if members else None
    if isinstance(info, mi.LiteralType):
        return info.values[0]
    if isinstance(info, mi.ListType):
        return [sample(info.item_type, depth + 1)] if depth < 4 else []
    simple = {mi.StrType: "x", mi.IntType: 1, mi.FloatType: 1.5, mi.BoolType: False,
              mi.DictType: {}}
    return next((v for cls, v in simple.items() if isinstance(info, cls)), None)


GENERATED = set(codegen.FAMILIES)
#: Generated types holding a reference union msgspec cannot express (typed ``Any``), or a
#: hand-written type looser than the reference: their minimal sample is not a valid document.
SAMPLE_EXCEPTIONS = {
    "mcpServer/resource/read result",  # ResourceContent: untagged text/blob union
    "accountSession/switch result",  # AccountSessionsSwitchResponse: untagged union
    "thread/settings/updated notification",  # reuses the hand-written CollaborationMode
}


@pytest.mark.parametrize(
    ("label", "tp", "ref_name"),
    [c[:3] for c in type_cases() if c[1].__module__.rsplit(".", 1)[-1] in GENERATED
     and c[0] not in SAMPLE_EXCEPTIONS],
)
def test_generated_types_round_trip_through_the_reference_schema(
    label: str, tp: Any, ref_name: str
) -> None:
    """A minimal document of each generated type decodes, and what it encodes to validates
    against the reference 0.171 definition."""
    instance = msgspec.convert(sample(msgspec.inspect.type_info(tp)), tp)
    wire = json.loads(msgspec.json.encode(instance))
    ref = schema._resolve_def(ref_name)
    assert ref is not None
    assert schema._errors(ref, wire) == [], label


def test_generated_modules_are_up_to_date() -> None:
    """The committed generated modules are exactly what the generator writes (edit the
    generator, never its output)."""
    rendered = codegen.render()
    stale = [str(path.relative_to(ROOT)) for path, text in rendered.items()
             if path.read_text() != text]
    assert stale == [], "run: python -m pycodex.protocol.codegen"
    assert all(text.startswith("# GENERATED CODE!") for text in rendered.values())


def test_published_type_names_are_unique() -> None:
    """Each type name means one class (exported schemas are keyed by name). After merging a
    branch that hand-writes a type the generator also wrote, re-run the generator: it then
    imports the hand-written one."""
    by_name: dict[str, set[str]] = {}
    for cls in iter_struct_classes(collect_types(experimental=True)):
        by_name.setdefault(cls.__name__, set()).add(cls.__module__)
    assert {n: sorted(m) for n, m in by_name.items() if len(m) > 1} == {}
    generated = {name for module in codegen.FAMILIES for name in
                 importlib.import_module(f"pycodex.protocol.types.{module}").__all__}
    assert sorted(generated & set(codegen.existing_types(codegen.FAMILIES))) == []


# -- export -------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["stable", "experimental"])
def test_generated_schema_and_typescript_publish_the_reference_unions(
    tmp_path: Path, kind: str
) -> None:
    out, ts = tmp_path / "schema", tmp_path / "ts"
    flag = ["--experimental"] if kind == "experimental" else []
    for tool, target in (("generate-json-schema", out), ("generate-ts", ts)):
        subprocess.run([sys.executable, "-m", "pycodex", "app-server", tool, "--out",
                        str(target), *flag], check=True, timeout=120)
    bundle = json.loads((out / "codex_app_server_protocol.schemas.json").read_text())
    definitions = bundle["definitions"]
    for union in UNIONS:
        listed = [v["properties"]["method"]["enum"][0] for v in definitions[union]["oneOf"]]
        expected = [m for m in reference(kind)[union]
                    if m not in manifest.PENDING_ELSEWHERE[union]]
        extras = [m for m in listed if m in NOT_IN_REFERENCE_UNION]
        assert listed == expected + extras, union
        ref_variants = {v["properties"]["method"]["enum"][0]: v
                        for v in reference_bundle(kind)["definitions"][union]["oneOf"]}
        differing = [v["properties"]["method"]["enum"][0] for v in definitions[union]["oneOf"]
                     if v["properties"]["method"]["enum"][0] in ref_variants
                     and v != {k: x for k, x in ref_variants[v["properties"]["method"]["enum"][0]]
                               .items() if k != "description"}]
        assert differing == (["account/rateLimits/read"] if union == "ClientRequest" else [])
        union_file = json.loads((out / f"{union}.json").read_text())
        assert [v["title"] for v in union_file["oneOf"]] == [v["title"] for v in
                                                             definitions[union]["oneOf"]]
        text = (ts / f"{union}.ts").read_text()
        assert all(f'"method": "{m}"' in text for m in listed)
    if kind == "stable":
        stable_defs = reference_definitions("stable")
        leaked = {}
        for name, ours in {**definitions, **definitions["v2"]}.items():
            ref = stable_defs.get(name, {})
            if "properties" in ours and "properties" in ref:
                extra = set(ours["properties"]) - set(ref["properties"])
                extra -= KNOWN_EXTRA_FIELDS.get(name, set()) | KNOWN_STABLE_LEAKS.get(name, set())
                if extra:
                    leaked[name] = sorted(extra)
        assert leaked == {}, "experimental fields in the stable export"
    for document in [bundle, *(json.loads(f.read_text()) for f in out.rglob("*.json"))]:
        text = json.dumps(document)
        for ref in set(re.findall(r'"\$ref": "#/definitions/([^"]+)"', text)):
            node = document["definitions"]
            for part in ref.split("/"):
                node = node[part]  # KeyError: a dangling reference
    variant = definitions["ClientRequest"]["oneOf"][0]
    assert variant["title"] == "InitializeRequest"
    assert variant["properties"]["method"]["title"] == "InitializeRequestMethod"
    assert variant["properties"]["params"] == {"$ref": "#/definitions/InitializeParams"}
    assert (out / "v2" / "ThreadStartParams.json").exists()
    assert (ts / "v2" / "ThreadStartParams.ts").exists() and (ts / "index.ts").exists()
    assert "GENERATED CODE" in (ts / "ClientRequest.ts").read_text()


# -- dispatch of published, unserved methods ----------------------------------------------
async def test_unserved_methods_answer_unknown_variant(server: AppServerClient) -> None:
    """A method in the table without a handler answers exactly like an unknown method."""
    order = {m: i for i, m in enumerate(REFERENCE_METHOD_ORDER)}
    known = sorted(client_requests(), key=lambda m: (order.get(m, 10_000), m))
    listed = ", ".join(f"`{m}`" for m in known)
    unserved = [m for m, s in published_requests().items() if not s.served]
    assert unserved
    for method in [*unserved, "no/such/method"]:
        response = await server.request_raw(method, {})
        assert response["error"] == {
            "code": -32600,
            "message": f"Invalid request: unknown variant `{method}`, expected one of {listed}",
        }, method


# -- the test client's table check --------------------------------------------------------
def test_client_flags_methods_missing_from_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    params = {"threadId": "t", "environmentId": "e"}
    assert schema.validate_notification("thread/environment/connected", params) == []
    monkeypatch.setattr(schema, "in_table", lambda union, method: False)
    assert schema.validate_notification("thread/environment/connected", params) == [
        "notification method thread/environment/connected is not in pycodex's method table"
    ]
    assert schema.validate_server_request("attestation/generate", {}) == [
        "server request method attestation/generate is not in pycodex's method table"
    ]


# -- requirement manifest -----------------------------------------------------------------
def _test_ids() -> set[str]:
    found: set[str] = set()
    for path in sorted(paths.TESTS.rglob("test_*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and \
                    node.name.startswith("test_"):
                found.add(f"{path.relative_to(ROOT).as_posix()}::{node.name}")
    return found


def test_manifest_covers_the_table() -> None:
    """Every method of the table maps to at least one existing test (methods of other
    branches still in PENDING_ELSEWHERE are tolerated until the lead maps them)."""
    mapped = {"ClientRequest": manifest.REQUESTS, "ServerNotification": manifest.NOTIFICATIONS,
              "ServerRequest": manifest.SERVER_REQUESTS}
    existing = _test_ids()
    for union, entries in mapped.items():
        unmapped = table(union) - set(entries) - manifest.PENDING_ELSEWHERE[union]
        assert sorted(unmapped) == [], f"{union}: not in the manifest"
        assert sorted(set(entries) - table(union)) == [], f"{union}: not in the table"
        for method, node_ids in entries.items():
            assert node_ids, method
            assert [n for n in node_ids if n not in existing] == [], method
