"""Which family (``protocol.types`` module) serves each method: a hint that lets dispatch
decode a client's first requests by importing only their families instead of building the
whole table. Dispatch falls back to the table for anything missing or wrong here, so the
hint only ever costs time; ``tests/transport/test_startup_path.py`` keeps it equal to the table.

Regenerate: ``python -m pycodex.protocol.served_families > <this file>``.
"""

from __future__ import annotations

SERVED_FAMILIES: dict[str, str] = {
    "account/bedrock/checkGovCloudRequirements": "account_extras",
    "account/gatewayOAuth/cancel": "account_extras",
    "account/gatewayOAuth/login": "account_extras",
    "account/gatewayOAuth/read": "account_extras",
    "account/login/cancel": "account",
    "account/login/start": "account",
    "account/logout": "account",
    "account/rateLimitResetCredit/consume": "account_extras",
    "account/rateLimits/read": "account",
    "account/read": "account",
    "account/securitySetup/read": "account_extras",
    "account/sendAddCreditsNudgeEmail": "account_extras",
    "account/usage/read": "account_extras",
    "account/workspaceMessages/read": "account_extras",
    "app/installed": "plugins",
    "app/list": "plugins",
    "app/read": "plugins",
    "collaborationMode/list": "misc",
    "command/exec": "command_exec",
    "command/exec/resize": "command_exec",
    "command/exec/terminate": "command_exec",
    "command/exec/write": "command_exec",
    "config/batchWrite": "config",
    "config/mcpServer/reload": "mcp",
    "config/read": "config",
    "config/value/write": "config",
    "configRequirements/read": "config",
    "experimentalFeature/enablement/set": "features",
    "experimentalFeature/list": "features",
    "externalAgentConfig/detect": "external_agent",
    "externalAgentConfig/import": "external_agent",
    "externalAgentConfig/import/readHistories": "import_history",
    "externalAgentConfig/import/recordHistory": "import_history",
    "feedback/save": "feedback",
    "feedback/upload": "feedback",
    "fs/copy": "fs",
    "fs/createDirectory": "fs",
    "fs/getMetadata": "fs",
    "fs/readDirectory": "fs",
    "fs/readFile": "fs",
    "fs/remove": "fs",
    "fs/unwatch": "fs",
    "fs/watch": "fs",
    "fs/writeFile": "fs",
    "fuzzyFileSearch": "fs",
    "fuzzyFileSearch/sessionStart": "fs",
    "fuzzyFileSearch/sessionStop": "fs",
    "fuzzyFileSearch/sessionUpdate": "fs",
    "getAuthStatus": "account",
    "hooks/list": "hooks",
    "initialize": "initialize",
    "marketplace/add": "plugins",
    "marketplace/remove": "plugins",
    "marketplace/upgrade": "plugins",
    "mcpServer/event/stream/start": "mcp",
    "mcpServer/event/stream/stop": "mcp",
    "mcpServer/oauth/login": "mcp",
    "mcpServer/resource/read": "mcp",
    "mcpServer/tool/call": "mcp",
    "mcpServerStatus/list": "mcp",
    "mock/experimentalMethod": "misc",
    "model/list": "models",
    "modelProvider/capabilities/read": "model_providers",
    "modelProvider/config/write": "model_providers",
    "modelProvider/default/set": "model_providers",
    "modelProvider/list": "model_providers",
    "permissionProfile/list": "features",
    "plugin/install": "plugins",
    "plugin/installed": "plugins",
    "plugin/list": "plugins",
    "plugin/read": "plugins",
    "plugin/reconcile": "plugins",
    "plugin/share/checkout": "plugins",
    "plugin/share/delete": "plugins",
    "plugin/share/list": "plugins",
    "plugin/share/save": "plugins",
    "plugin/share/updateTargets": "plugins",
    "plugin/skill/read": "plugins",
    "plugin/uninstall": "plugins",
    "review/start": "review",
    "skills/config/write": "skills",
    "skills/extraRoots/set": "skills",
    "skills/list": "skills",
    "thread/archive": "threads",
    "thread/attachment/add": "attachments",
    "thread/attachment/list": "attachments",
    "thread/attachment/remove": "attachments",
    "thread/attachmentOwner/list": "attachments",
    "thread/backgroundTerminals/list": "thread_controls",
    "thread/compact/start": "turns",
    "thread/delete": "threads",
    "thread/fork": "threads",
    "thread/goal/clear": "goals",
    "thread/goal/get": "goals",
    "thread/goal/set": "goals",
    "thread/inject_items": "turns",
    "thread/items/list": "threads",
    "thread/list": "threads",
    "thread/loaded/list": "threads",
    "thread/metadata/update": "threads",
    "thread/name/set": "threads",
    "thread/read": "threads",
    "thread/readState/update": "thread_controls",
    "thread/resume": "threads",
    "thread/revert": "threads",
    "thread/rollback": "threads",
    "thread/search": "thread_search",
    "thread/section/move": "sections",
    "thread/settings/update": "thread_controls",
    "thread/shellCommand": "thread_controls",
    "thread/start": "threads",
    "thread/turns/list": "threads",
    "thread/unarchive": "threads",
    "thread/unsubscribe": "threads",
    "threadSection/create": "sections",
    "threadSection/delete": "sections",
    "threadSection/list": "sections",
    "threadSection/update": "sections",
    "turn/interrupt": "turns",
    "turn/start": "turns",
    "turn/steer": "turns",
    "windowsSandbox/readiness": "windows_sandbox",
    "windowsSandbox/setupStart": "windows_sandbox",
}


def render() -> str:
    """This module's source for the current table."""
    import inspect
    import sys

    from pycodex.protocol.types import client_requests

    entries = "".join(
        f"    {name!r}: {spec.family!r},\n".replace("'", '"')
        for name, spec in sorted(client_requests().items())
    )
    source = inspect.getsource(sys.modules[__name__])
    head, _, rest = source.partition("SERVED_FAMILIES: dict[str, str] = {\n")
    return head + "SERVED_FAMILIES: dict[str, str] = {\n" + entries + rest[rest.index("}\n"):]


if __name__ == "__main__":
    print(render(), end="")
