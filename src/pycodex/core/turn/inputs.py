"""The user's input items: as Responses content for the model, as ``userMessage`` content
for the client."""

from __future__ import annotations

import base64
import mimetypes
from typing import Any


def user_input_to_content(inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Responses API content parts for the user's input items."""
    content: list[dict[str, Any]] = []
    for item in inputs:
        kind = item.get("type")
        if kind == "text":
            content.append({"type": "input_text", "text": item.get("text", "")})
        elif kind == "image" and item.get("url"):
            content.append({"type": "input_image", "image_url": item["url"]})
        elif kind == "localImage" and item.get("path"):
            content.append({"type": "input_image", "image_url": _data_url(item["path"])})
        elif kind == "mention":  # ``skill`` inputs travel as their own messages
            content.append({"type": "input_text",
                            "text": f"[{kind} {item.get('name')}: {item.get('path')}]"})
    return content


def _data_url(path: str) -> str:
    mime = mimetypes.guess_type(path)[0] or "image/png"
    try:
        with open(path, "rb") as fh:
            data = base64.b64encode(fh.read()).decode()
    except OSError:
        return f"data:{mime};base64,"
    return f"data:{mime};base64,{data}"


def wire_user_inputs(inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """UserInput as echoed in ``userMessage`` items (text gets ``text_elements``)."""
    out = []
    for item in inputs:
        if item.get("type") == "text":
            out.append({"type": "text", "text": item.get("text", ""),
                        "text_elements": item.get("text_elements") or []})
        else:
            out.append(item)
    return out
