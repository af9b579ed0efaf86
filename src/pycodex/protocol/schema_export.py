"""``generate-json-schema``: JSON Schema of every method in the table, in the reference's layout.

Writes the one-file bundle ``codex_app_server_protocol.schemas.json`` (v1 types and the method
unions under ``definitions``, v2 types under ``definitions.v2``), the v2-only bundle
``codex_app_server_protocol.v2.schemas.json``, the four unions (``ClientRequest.json``,
``ClientNotification.json``, ``ServerNotification.json``, ``ServerRequest.json``) and one file
per type (v2 types under ``v2/``), each standalone with the definitions it uses. Methods are
listed in the reference's order; experimental methods only with ``--experimental``.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from pycodex.protocol.reference_order import (
    REFERENCE_METHOD_ORDER,
    REFERENCE_NOTIFICATION_ORDER,
    REFERENCE_NOTIFICATION_TYPES,
    REFERENCE_SERVER_REQUEST_ORDER,
    REFERENCE_V1_TYPES,
)
from pycodex.protocol.types import (
    named_unions,
    published_requests,
    server_notifications,
    server_requests,
)

DRAFT7 = "http://json-schema.org/draft-07/schema#"
FLAT = "#/definitions/"
V2 = "#/definitions/v2/"
#: Types the unions reference that are not method params.
REQUEST_ID: dict[str, Any] = {"anyOf": [{"type": "string"}, {"type": "integer", "format": "int64"}],
                              "title": "RequestId"}


@dataclass(frozen=True, slots=True)
class UnionEntry:
    """One variant of a method union."""

    method: str
    params: Any
    """The params type; ``None``: no params; ``X | None``: optional params."""
    has_id: bool
    alias: str | None = None
    """The reference's name of the params type, when pycodex's type is named otherwise (the
    export publishes that name too, pointing at pycodex's type)."""


def _name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def members(tp: Any) -> list[Any]:
    """The named types behind ``tp`` (a struct, or the structs of a union)."""
    if isinstance(tp, type) and tp is not type(None):
        return [tp]
    return [t for t in typing.get_args(tp) if isinstance(t, type) and t is not type(None)]


def _optional(tp: Any) -> bool:
    return type(None) in typing.get_args(tp)


def _ordered(names: list[str], order: tuple[str, ...]) -> list[str]:
    rank = {name: i for i, name in enumerate(order)}
    return sorted(names, key=lambda n: (rank.get(n, len(rank)), names.index(n)))


def union_entries(experimental: bool) -> dict[str, list[UnionEntry]]:
    """The method unions in the reference's order (pycodex-only methods last)."""
    requests = {s.name: s for s in published_requests().values()
                if experimental or not s.experimental}
    notifications = server_notifications()
    server = server_requests()
    return {
        "ClientRequest": [UnionEntry(m, requests[m].params, True)
                          for m in _ordered(list(requests), REFERENCE_METHOD_ORDER)],
        "ClientNotification": [UnionEntry("initialized", None, False)],
        "ServerNotification": [UnionEntry(m, notifications[m], False,
                                          _alias(notifications[m],
                                                 REFERENCE_NOTIFICATION_TYPES.get(m)))
                               for m in _ordered(list(notifications),
                                                 REFERENCE_NOTIFICATION_ORDER)],
        "ServerRequest": [UnionEntry(m, server[m].params, True)
                          for m in _ordered(list(server), REFERENCE_SERVER_REQUEST_ORDER)],
    }


def _top_level_types(experimental: bool) -> list[Any]:
    """The params/result types of the published methods, as the table spells them."""
    found: list[Any] = []
    for spec in published_requests().values():
        if experimental or not spec.experimental:
            found.extend((spec.params, spec.result))
    found.extend(server_notifications().values())
    for sreq in server_requests().values():
        found.extend((sreq.params, sreq.result))
    return [t for t in found if t is not None]


def _alias(tp: Any, reference_name: str | None) -> str | None:
    names = type_names(tp)
    return reference_name if reference_name and names != [reference_name] else None


def collect_types(experimental: bool) -> list[Any]:
    """Every struct type used by the published methods, deduplicated by name."""
    found = [m for t in _top_level_types(experimental) for m in members(t)]
    seen: dict[str, Any] = {}
    for tp in found:
        seen.setdefault(_name(tp), tp)
    return list(seen.values())


def _cap(method: str) -> str:
    """``thread/inject_items`` → ``Thread/injectItems`` (the reference's variant titles)."""
    camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), method)
    return camel[:1].upper() + camel[1:]


def union_name(tp: Any) -> str | None:
    """The name of a module-level union of structs (``LoginAccountParams``), if ``tp`` is one
    (or one ``| None``)."""
    args = tuple(a for a in typing.get_args(tp) if a is not type(None))
    return named_unions().get(args) if len(args) > 1 else None


def type_names(tp: Any) -> list[str]:
    """How ``tp`` is referenced: its union's name, else the names of its structs."""
    name = union_name(tp)
    return [name] if name else [_name(m) for m in members(tp)]


def _params_schema(params: Any, ref: str) -> dict[str, Any] | None:
    if params is None:
        return None
    refs = [{"$ref": ref + name} for name in type_names(params)]
    schema: dict[str, Any] = refs[0] if len(refs) == 1 else {"anyOf": refs}
    if _optional(params):
        schema = {"anyOf": [*refs, {"type": "null"}]}
    return schema


def union_schema(title: str, entries: list[UnionEntry], ref: typing.Callable[[str], str]
                 ) -> dict[str, Any]:
    """A method union shaped like the reference's (variant and method titles included)."""
    kind = "Request" if entries and entries[0].has_id else "Notification"
    variants = []
    for entry in entries:
        props: dict[str, Any] = {}
        required: list[str] = []
        if entry.has_id:
            props["id"] = {"$ref": ref("RequestId")}
            required.append("id")
        props["method"] = {"enum": [entry.method], "title": f"{_cap(entry.method)}{kind}Method",
                           "type": "string"}
        required.append("method")
        params = ({"$ref": entry.alias} if entry.alias
                  else _params_schema(entry.params, ""))
        if params is not None:
            props["params"] = _rewrite(params, ref)
            if not _optional(entry.params):
                required.append("params")
        elif entry.has_id and title == "ClientRequest":
            props["params"] = {"type": "null"}
        variants.append({"properties": props, "required": required,
                         "title": f"{_cap(entry.method)}{kind}", "type": "object"})
    return {"$schema": DRAFT7, "oneOf": variants, "title": title}


def _rewrite(schema: Any, ref: typing.Callable[[str], str]) -> Any:
    """Point every ``$ref`` (bare names or ``#/definitions/<name>``) at ``ref(name)``."""
    if isinstance(schema, dict):
        out = {}
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str):
                out[key] = ref(value.rsplit("/", 1)[-1])
            else:
                out[key] = _rewrite(value, ref)
        return out
    if isinstance(schema, list):
        return [_rewrite(v, ref) for v in schema]
    return schema


def _is_v1(name: str) -> bool:
    return name in REFERENCE_V1_TYPES


def _bundle_ref(name: str) -> str:
    return (FLAT if _is_v1(name) or name in UNIONS else V2) + name


UNIONS = ("ClientRequest", "ClientNotification", "ServerNotification", "ServerRequest")


def iter_struct_classes(roots: list[Any]) -> Iterator[type]:
    """Every struct class reachable from ``roots`` (each once)."""
    stack: list[Any] = list(msgspec.inspect.multi_type_info(roots))
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, msgspec.inspect.StructType):
            yield node.cls
            stack.extend(f.type for f in node.fields)
        for attr in ("types", "item_type", "value_type", "key_type"):
            child = getattr(node, attr, None)
            stack.extend(child if isinstance(child, tuple) else [child] if child else [])


def _without_experimental_fields(schema: dict[str, Any], cls: type) -> dict[str, Any]:
    gated = set(getattr(cls, "__experimental__", {}).values())
    if not gated or "properties" not in schema:
        return schema
    props = {k: v for k, v in schema["properties"].items() if k not in gated}
    out = {**schema, "properties": props}
    if "required" in schema:
        out["required"] = [k for k in schema["required"] if k not in gated]
    return out


def type_definitions(experimental: bool) -> dict[str, Any]:
    """name → JSON Schema of every published type (refs as ``#/definitions/<name>``);
    without ``experimental``, fields gated behind ``experimentalApi`` are left out."""
    roots = collect_types(experimental)
    _, components = msgspec.json.schema_components(roots, ref_template=FLAT + "{name}")
    classes = {} if experimental else {c.__name__: c for c in iter_struct_classes(roots)}
    definitions: dict[str, Any] = {}
    for name, schema in components.items():
        if name in classes:
            schema = _without_experimental_fields(schema, classes[name])
        definitions[name] = {**schema, "title": schema.get("title", name)}
    for tp in _top_level_types(experimental):
        union = union_name(tp)
        if union:
            definitions[union] = {"oneOf": [{"$ref": FLAT + _name(m)} for m in members(tp)],
                                  "title": union}
    for entries in union_entries(experimental).values():
        for entry in entries:
            if entry.alias:
                (target,) = type_names(entry.params)
                definitions[entry.alias] = {"$ref": FLAT + target, "title": entry.alias}
    definitions["RequestId"] = REQUEST_ID
    return dict(sorted(definitions.items()))


def build_bundle(experimental: bool = False) -> dict[str, Any]:
    """The one-file bundle: v1 types and unions at the top, v2 types under ``v2``."""
    definitions = type_definitions(experimental)
    top: dict[str, Any] = {}
    v2: dict[str, Any] = {}
    for name, schema in definitions.items():
        target = top if _is_v1(name) else v2
        target[name] = _rewrite(schema, _bundle_ref)
    top["RequestId"] = REQUEST_ID
    for title, entries in union_entries(experimental).items():
        top[title] = union_schema(title, entries, _bundle_ref)
    top["v2"] = v2
    return {"$schema": DRAFT7, "definitions": dict(sorted(top.items())),
            "title": "CodexAppServerProtocol", "type": "object"}


def _closure(name: str, definitions: dict[str, Any]) -> dict[str, Any]:
    """The definitions reachable from ``definitions[name]``."""
    needed: dict[str, Any] = {}
    todo = [name]
    while todo:
        current = todo.pop()
        for dep in re.findall(r'"\$ref": "#/definitions/([^"]+)"',
                              json.dumps(definitions[current])):
            if dep not in needed and dep in definitions:
                needed[dep] = definitions[dep]
                todo.append(dep)
    needed.pop(name, None)
    return dict(sorted(needed.items()))


def _dump(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def write_json_schema(out: Path, *, experimental: bool = False) -> None:
    definitions = type_definitions(experimental)
    flat_ref = lambda name: FLAT + name  # noqa: E731 - a one-line mapping
    for title, entries in union_entries(experimental).items():
        definitions[title] = union_schema(title, entries, flat_ref)
    _dump(out / "codex_app_server_protocol.schemas.json", build_bundle(experimental))
    v2 = {n: s for n, s in definitions.items() if not _is_v1(n) and n not in UNIONS}
    for name in list(v2):
        v2.update(_closure(name, definitions))
    v2 = dict(sorted(v2.items()))
    _dump(out / "codex_app_server_protocol.v2.schemas.json",
          {"$schema": DRAFT7, "definitions": v2, "title": "CodexAppServerProtocolV2",
           "type": "object"})
    for name, schema in definitions.items():
        standalone = {"$schema": DRAFT7, **schema, "title": name}
        deps = _closure(name, definitions)
        if deps:
            standalone["definitions"] = deps
        folder = out if _is_v1(name) or name in UNIONS else out / "v2"
        _dump(folder / f"{name}.json", standalone)
