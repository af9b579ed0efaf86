"""Encoding a big answer without holding the event loop.

A ``thread/resume`` of a long thread answers with thousands of turns (tens of MB of JSON);
msgspec encodes ~200 MB/s and keeps the GIL meanwhile, so encoding such an answer in one
call stalls every connection for a third of a second. :func:`long_list_path` finds the long
list in a message (at most a few levels down); :func:`encode_in_pieces` encodes the message
around it once, then the list a slice at a time, giving the loop a turn between slices. The
pieces, joined, are byte for byte what one ``encode`` of the message gives.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import msgspec

#: A list at least this long is encoded in slices.
LONG_LIST = 256
#: How deep (struct fields, dict values) a long list is looked for.
MAX_DEPTH = 4
#: Encoding time aimed at per slice before the loop gets its turn.
SLICE_SECONDS = 0.002

_encoder = msgspec.json.Encoder()
_COMMA = ord(",")

#: A step into a value: a struct attribute (``True``) or a dict key (``False``).
Step = tuple[bool, str]


def long_list_path(value: Any, depth: int = MAX_DEPTH) -> list[Step] | None:
    """Where the first list of :data:`LONG_LIST` or more items sits in ``value``."""
    if depth == 0:
        return None
    if isinstance(value, msgspec.Struct):
        children: Any = ((True, name, getattr(value, name)) for name in value.__struct_fields__)
    elif isinstance(value, dict):
        children = ((False, key, child) for key, child in value.items() if isinstance(key, str))
    else:
        return None
    for is_attr, name, child in children:
        if isinstance(child, list) and len(child) >= LONG_LIST:
            return [(is_attr, name)]
        found = long_list_path(child, depth - 1)
        if found is not None:
            return [(is_attr, name), *found]
    return None


def _replaced(value: Any, path: list[Step], new: Any) -> Any:
    """``value`` with what ``path`` leads to replaced by ``new`` (copies along the path)."""
    (is_attr, name), rest = path[0], path[1:]
    old = getattr(value, name) if is_attr else value[name]
    child = _replaced(old, rest, new) if rest else new
    if is_attr:
        return msgspec.structs.replace(value, **{name: child})
    return {**value, name: child}


def _list_at(value: Any, path: list[Step]) -> list[Any]:
    for is_attr, name in path:
        value = getattr(value, name) if is_attr else value[name]
    assert isinstance(value, list)
    return value


async def encode_in_pieces(message: Any, path: list[Step], *, end: bytes = b"",
                           clock: Callable[[], float] = time.perf_counter
                           ) -> list[bytes | bytearray]:
    """``message`` encoded (then ``end``) in pieces; the list at ``path`` is encoded a
    slice at a time, each slice sized to take about :data:`SLICE_SECONDS`, with
    ``await asyncio.sleep(0)`` between slices."""
    items = _list_at(message, path)
    marker = uuid.uuid4().hex
    skeleton = _encoder.encode(_replaced(message, path, marker))
    quoted = b'"' + marker.encode() + b'"'
    if skeleton.count(quoted) != 1:
        return [_encoder.encode(message) + end]  # (a random id found twice: never)
    head, _, tail = skeleton.partition(quoted)
    pieces: list[bytes | bytearray] = [head]
    step, at = 16, 0
    while at < len(items):
        started = clock()
        # ``[a,b]`` becomes ``[a,b`` (the list's opening bracket) or ``,c,d`` in place
        chunk = bytearray()
        _encoder.encode_into(items[at:at + step], chunk)
        del chunk[-1]
        if at:
            chunk[0] = _COMMA
        pieces.append(chunk)
        at += step
        elapsed = clock() - started
        # the next slice aimed at the budget, growing at most fourfold
        step = max(1, min(step * 4, int(step * SLICE_SECONDS / elapsed))) if elapsed > 0 \
            else step * 4
        await asyncio.sleep(0)
    pieces.append(b"]" + tail + end)
    return pieces
