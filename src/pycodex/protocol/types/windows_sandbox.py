"""Wire types of the Windows sandbox methods (answered as on a non-Windows host)."""

from __future__ import annotations

from typing import Any, Literal

from pycodex.protocol.base import WireStruct
from pycodex.protocol.methods import MethodSpec

WindowsSandboxSetupMode = Literal["elevated", "unelevated"]


class WindowsSandboxSetupStartParams(WireStruct):
    mode: WindowsSandboxSetupMode
    cwd: str | None = None


class WindowsSandboxSetupStartResponse(WireStruct):
    started: bool


class WindowsSandboxReadinessResponse(WireStruct):
    status: Literal["ready", "notConfigured", "updateRequired"]


class WindowsSandboxSetupCompletedNotification(WireStruct):
    mode: WindowsSandboxSetupMode
    success: bool
    error: str | None = None


class WindowsWorldWritableWarningNotification(WireStruct):
    sample_paths: list[str]
    extra_count: int
    failed_scan: bool


REQUESTS: list[MethodSpec] = [
    MethodSpec(
        "windowsSandbox/setupStart",
        WindowsSandboxSetupStartParams,
        WindowsSandboxSetupStartResponse,
    ),
    MethodSpec("windowsSandbox/readiness", None, WindowsSandboxReadinessResponse),
]
NOTIFICATIONS: dict[str, Any] = {
    "windowsSandbox/setupCompleted": WindowsSandboxSetupCompletedNotification,
    "windows/worldWritableWarning": WindowsWorldWritableWarningNotification,
}
