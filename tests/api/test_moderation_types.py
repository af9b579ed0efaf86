"""The 0.171 shapes of an agent message's moderation (``AgentMessageDisplay``, a union tagged
by ``mode``, each variant at ``version: 1``) and of ``CodexErrorInfo`` (with ``bioPolicy``):
what pycodex encodes validates against the reference schema and decodes back."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from pycodex.protocol.types.items import (
    AgentMessageItem,
    AgentMessageModeration,
    BlockAgentMessageDisplay,
    CyberBlockReason,
    HideAgentMessageDisplay,
    ItemCompletedNotification,
    ProtectionBlockReason,
    ShowAgentMessageDisplay,
    TurnError,
    WellbeingHelplineAnswerAnnotation,
    WellbeingPromptHelplineAnswerReplacement,
)
from pycodex.protocol.types.turns import ErrorNotification
from tests.support import schema

DISPLAYS: list[tuple[Any, dict[str, Any]]] = [
    (ShowAgentMessageDisplay(trusted_contacts="check"),
     {"mode": "show", "trustedContacts": "check", "version": 1, "annotation": None}),
    (ShowAgentMessageDisplay(trusted_contacts="skip", annotation=WellbeingHelplineAnswerAnnotation(
        subject="prompt")),
     {"mode": "show", "trustedContacts": "skip", "version": 1,
      "annotation": {"kind": "wellbeingHelpline", "subject": "prompt"}}),
    (HideAgentMessageDisplay(replacement=WellbeingPromptHelplineAnswerReplacement()),
     {"mode": "hide", "version": 1, "replacement": {"kind": "wellbeingPromptHelpline"}}),
    (BlockAgentMessageDisplay(reason=ProtectionBlockReason(protection_type="bio")),
     {"mode": "block", "version": 1, "reason": {"kind": "protection", "protectionType": "bio"}}),
    (BlockAgentMessageDisplay(reason=CyberBlockReason(trusted_access=True)),
     {"mode": "block", "version": 1, "reason": {"kind": "cyber", "trustedAccess": True}}),
]


@pytest.mark.parametrize(("display", "wire"), DISPLAYS)
def test_agent_message_display_variants(display: Any, wire: dict[str, Any]) -> None:
    item = AgentMessageItem(id="msg_1", text="", moderation=AgentMessageModeration(
        moderated=True, display=display))
    encoded = msgspec.to_builtins(item)
    assert encoded["moderation"] == {"moderated": True, "display": wire}
    event = ItemCompletedNotification(item=item, thread_id="t", turn_id="u",
                                      content_token_count=None, completed_at_ms=1)
    assert schema.validate_notification("item/completed", msgspec.to_builtins(event)) == []
    assert msgspec.json.decode(msgspec.json.encode(item), type=AgentMessageItem) == item


def test_bio_policy_error_info() -> None:
    error = TurnError(message="blocked", codex_error_info="bioPolicy")
    event = ErrorNotification(error=error, will_retry=False, thread_id="t", turn_id="u")
    params = msgspec.to_builtins(event)
    assert params["error"]["codexErrorInfo"] == "bioPolicy"
    assert schema.validate_notification("error", params) == []
    assert msgspec.convert(params["error"], TurnError) == error
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"message": "x", "codexErrorInfo": "noSuchKind"}, TurnError)
