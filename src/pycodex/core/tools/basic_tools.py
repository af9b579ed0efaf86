"""Small built-in tools: ``update_plan``, ``view_image`` and ``request_user_input``."""

from __future__ import annotations

import base64
import json
import mimetypes
from pathlib import Path
from typing import Any, Literal

from pycodex.core import tool_specs
from pycodex.core.host import ClientAnswerError, TurnSettings
from pycodex.core.tools.context import Tool, ToolCall, ToolContext, ToolError, ToolOutput
from pycodex.protocol.types.items import (
    ImageViewItem,
    ToolRequestUserInputOption,
    ToolRequestUserInputParams,
    ToolRequestUserInputQuestion,
)
from pycodex.protocol.types.turns import TurnPlanStep, TurnPlanUpdatedNotification

_PLAN_STATUSES: dict[str, Literal["pending", "inProgress", "completed"]] = {
    "pending": "pending", "in_progress": "inProgress", "inProgress": "inProgress",
    "completed": "completed"}


def _plan_status_name(raw: Any) -> str:
    return {"in_progress": "inProgress"}.get(str(raw), str(raw))


async def update_plan(call: ToolCall, ctx: ToolContext) -> ToolOutput:
    args = call.json_arguments()
    plan = args.get("plan")
    if not isinstance(plan, list):
        raise ToolError("failed to parse function arguments: missing field `plan`")
    steps = []
    for entry in plan:
        if not isinstance(entry, dict) or not isinstance(entry.get("step"), str):
            raise ToolError("failed to parse function arguments: invalid plan item")
        status = _PLAN_STATUSES.get(str(entry.get("status")))
        if status is None:
            raise ToolError("failed to parse function arguments: unknown status "
                            f"{_plan_status_name(entry.get('status'))!r}")
        steps.append(TurnPlanStep(step=entry["step"], status=status))
    explanation = args.get("explanation")
    await ctx.emit(TurnPlanUpdatedNotification(
        thread_id=ctx.thread_id, turn_id=ctx.turn_id,
        explanation=explanation if isinstance(explanation, str) else None, plan=steps))
    return "Plan updated"


def _view_image_spec(settings: TurnSettings, info: Any) -> dict[str, Any] | None:
    return tool_specs.VIEW_IMAGE if "image" in getattr(info, "input_modalities", ()) else None


async def view_image(call: ToolCall, ctx: ToolContext) -> ToolOutput:
    args = call.json_arguments()
    raw = args.get("path")
    if not isinstance(raw, str) or not raw:
        raise ToolError("failed to parse function arguments: missing field `path`")
    path = Path(raw)
    if not path.is_absolute():
        path = ctx.cwd / path
    if not path.is_file():
        raise ToolError(f"unable to locate image at `{path}`")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ToolError(f"unable to read image at `{path}`: {exc}") from None
    mime = mimetypes.guess_type(str(path))[0] or "image/png"
    item = ImageViewItem(id=call.call_id, path=str(path))
    await ctx.item_started(item)
    await ctx.item_completed(item)
    url = f"data:{mime};base64,{base64.b64encode(data).decode()}"
    return [{"type": "input_image", "image_url": url}]


_MODE_NAMES = {"default": "Default", "execute": "Execute", "plan": "Plan",
               "pair_programming": "Pair Programming"}


async def request_user_input(call: ToolCall, ctx: ToolContext) -> ToolOutput:
    # Only Plan mode may ask.
    mode = ctx.settings.collaboration_mode
    if mode != "plan":
        name = _MODE_NAMES.get(mode, mode.replace("_", " ").title())
        raise ToolError(f"request_user_input is unavailable in {name} mode")
    args = call.json_arguments()
    questions = args.get("questions")
    if not isinstance(questions, list) or not questions:
        raise ToolError("failed to parse function arguments: missing field `questions`")
    wire_questions = []
    for q in questions:
        if not isinstance(q, dict) or not all(isinstance(q.get(k), str)
                                              for k in ("id", "header", "question")):
            raise ToolError("failed to parse function arguments: invalid question")
        options = q.get("options")
        if not isinstance(options, list) or not options:
            raise ToolError("request_user_input requires non-empty options for every question")
        wire_questions.append(ToolRequestUserInputQuestion(
            id=q["id"], header=q["header"], question=q["question"], is_other=True,
            is_secret=bool(q.get("isSecret", False)),
            options=[ToolRequestUserInputOption(label=str(o.get("label", "")),
                                                description=str(o.get("description", "")))
                     for o in options if isinstance(o, dict)]))
    params = ToolRequestUserInputParams(thread_id=ctx.thread_id, turn_id=ctx.turn_id,
                                        item_id=call.call_id, questions=wire_questions,
                                        is_blocking=True)
    try:
        result = await ctx.ask(params, "waitingOnUserInput")
    except ClientAnswerError:
        result = None
    answers = result.get("answers") if isinstance(result, dict) else None
    clean: dict[str, Any] = {}
    if isinstance(answers, dict):
        for key, value in answers.items():
            picked = value.get("answers") if isinstance(value, dict) else None
            if isinstance(picked, list) and all(isinstance(a, str) for a in picked):
                clean[str(key)] = {"answers": picked}
    return json.dumps({"answers": clean}, separators=(",", ":"), ensure_ascii=False)


TOOLS = [
    Tool("update_plan", update_plan, lambda settings, info: tool_specs.UPDATE_PLAN),
    Tool("view_image", view_image, _view_image_spec),
    Tool("request_user_input", request_user_input,
         lambda settings, info: tool_specs.REQUEST_USER_INPUT),
]
