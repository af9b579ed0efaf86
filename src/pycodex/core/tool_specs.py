"""The tool definitions pycodex offers the model (Responses API ``tools`` entries)."""

from __future__ import annotations

from typing import Any

APPLY_PATCH_GRAMMAR = r"""
start: "*** Begin Patch" LF operation+ "*** End Patch" LF?
operation: add_file | delete_file | update_file
add_file: "*** Add File: " PATH LF added_line+
delete_file: "*** Delete File: " PATH LF
update_file: "*** Update File: " PATH LF move_to? chunk+
move_to: "*** Move to: " PATH LF
chunk: ("@@" | "@@ " TEXT) LF diff_line+ eof_marker?
eof_marker: "*** End of File" LF
added_line: "+" TEXT? LF
diff_line: (" " | "-" | "+") TEXT? LF
PATH: /[^\r\n]+/
TEXT: /[^\r\n]+/
%import common.LF
""".strip()


def _function(name: str, description: str, properties: dict[str, Any],
              required: list[str]) -> dict[str, Any]:
    return {
        "type": "function",
        "name": name,
        "description": description,
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        },
    }


EXEC_COMMAND = _function(
    "exec_command",
    "Run a shell command (optionally in a pseudo-terminal). Returns its output, or a session id "
    "to keep interacting with a process that is still running.",
    {
        "cmd": {"type": "string", "description": "The shell command to run."},
        "workdir": {"type": "string", "description": "Directory to run in; defaults to the "
                    "turn's working directory."},
        "shell": {"type": "string", "description": "Shell binary; defaults to the user's shell."},
        "login": {"type": "boolean", "description": "Run the shell as a login shell "
                  "(default true)."},
        "tty": {"type": "boolean", "description": "Allocate a pseudo-terminal (default false)."},
        "yield_time_ms": {"type": "number", "description": "How long to wait for output before "
                          "returning (250 to 30000, default 10000)."},
        "max_output_tokens": {"type": "number", "description": "Output budget in tokens; the "
                              "middle of longer output is elided."},
        "sandbox_permissions": {"type": "string", "enum": ["use_default", "require_escalated"],
                                "description": "Ask to run outside the sandbox with "
                                "`require_escalated` (needs a justification)."},
        "justification": {"type": "string", "description": "Why the command must run outside "
                          "the sandbox, shown to the user."},
        "prefix_rule": {"type": "array", "items": {"type": "string"}, "description": "A command "
                        "prefix the user may allow for the rest of the session."},
    },
    ["cmd"],
)

WRITE_STDIN = _function(
    "write_stdin",
    "Send characters to a running exec_command session and return the output produced since "
    "the last read. Send empty `chars` to just wait for more output.",
    {
        "session_id": {"type": "number", "description": "Session id returned by exec_command."},
        "chars": {"type": "string", "description": "Characters to write; may be empty."},
        "yield_time_ms": {"type": "number", "description": "How long to wait for output."},
        "max_output_tokens": {"type": "number", "description": "Output budget in tokens."},
    },
    ["session_id"],
)

APPLY_PATCH = {
    "type": "custom",
    "name": "apply_patch",
    "description": "Edit files with a patch in the apply_patch format. This is a FREEFORM tool: "
    "send the patch text itself, not JSON.",
    "format": {"type": "grammar", "syntax": "lark", "definition": APPLY_PATCH_GRAMMAR},
}

APPLY_PATCH_FUNCTION = _function(
    "apply_patch",
    "Edit files. `input` is a patch: '*** Begin Patch', then operations ('*** Add File: <path>' "
    "with '+' lines, '*** Delete File: <path>', '*** Update File: <path>' with optional "
    "'*** Move to: <path>' and '@@' hunks of ' '/'-'/'+' lines), then '*** End Patch'.",
    {"input": {"type": "string", "description": "The whole patch text."}},
    ["input"],
)

UPDATE_PLAN = _function(
    "update_plan",
    "Record the task plan: a short explanation and the steps with their status. Keep at most "
    "one step in_progress.",
    {
        "explanation": {"type": "string"},
        "plan": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "step": {"type": "string"},
                    "status": {"type": "string",
                               "enum": ["pending", "in_progress", "completed"]},
                },
                "required": ["step", "status"],
                "additionalProperties": False,
            },
        },
    },
    ["plan"],
)

VIEW_IMAGE = _function(
    "view_image",
    "Look at an image file from the local filesystem.",
    {"path": {"type": "string", "description": "Path of the image file."}},
    ["path"],
)

REQUEST_USER_INPUT = _function(
    "request_user_input",
    "Ask the user one to three short questions, each with a few options, and wait for the "
    "answers. Only available in Plan mode.",
    {
        "questions": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "header": {"type": "string"},
                    "question": {"type": "string"},
                    "options": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"label": {"type": "string"},
                                           "description": {"type": "string"}},
                            "required": ["label", "description"],
                            "additionalProperties": False,
                        },
                    },
                },
                "required": ["id", "header", "question", "options"],
                "additionalProperties": False,
            },
        }
    },
    ["questions"],
)


def dynamic_tool_spec(tool: dict[str, Any]) -> dict[str, Any]:
    """A client-declared dynamic tool as a function tool."""
    return {
        "type": "function",
        "name": tool["name"],
        "description": tool.get("description", ""),
        "strict": False,
        "parameters": tool.get("inputSchema") or {"type": "object", "properties": {}},
    }

#: Goal statuses the model may set; resuming and the limits belong to the user and the
#: system.
GOAL_STATUSES_FOR_MODEL = ("complete", "blocked", "paused")

GET_GOAL = _function(
    "get_goal",
    "Read this thread's goal: objective, status, token budget, tokens and time used so far, "
    "and tokens remaining.",
    {}, [])
CREATE_GOAL = _function(
    "create_goal",
    "Start a goal for this thread, only when the user or the instructions explicitly ask for "
    "one. Fails while an unfinished goal exists.",
    {"objective": {"type": "string", "description": "What the goal is to achieve."},
     "token_budget": {"type": "integer",
                      "description": "A positive token budget, only when one was asked for."}},
    ["objective"])
UPDATE_GOAL = _function(
    "update_goal",
    "Change the status of this thread's goal: `complete` once the objective is achieved and "
    "verified, `blocked` when no progress is possible without the user, `paused` only when "
    "the user asks for it.",
    {"status": {"type": "string", "enum": list(GOAL_STATUSES_FOR_MODEL),
                "description": "The goal's new status."}},
    ["status"])

