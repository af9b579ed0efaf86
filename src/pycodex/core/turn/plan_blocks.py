"""Plan mode's ``<proposed_plan>`` blocks in the model's streamed text: each block becomes a
``plan`` item (its lines streamed as ``item/plan/delta``), the rest stays the agent
message, as the reference 0.171 shows them. A tag counts only on a line of its own, so a
line is held back while it could still be one."""

from __future__ import annotations

OPEN = "<proposed_plan>"
CLOSE = "</proposed_plan>"

#: A piece of the stream: ``("text" | "plan", fragment)``, ``("open", "")``, ``("close", "")``.
Piece = tuple[str, str]


class PlanSplitter:
    """Splits one agent message's deltas into visible text and plan blocks."""

    def __init__(self) -> None:
        self.inside = False
        self._line = ""  # the start of the current line, held while it may be a tag
        self._deciding = True  # at the start of a line
        self.visible: list[str] = []

    def push(self, delta: str) -> list[Piece]:
        pieces: list[Piece] = []
        for segment in delta.splitlines(keepends=True):
            if self._deciding:
                self._line += segment
                self._decide(pieces, ended=self._line.endswith("\n"))
            else:
                self._out(pieces, segment)
                self._deciding = segment.endswith("\n")
        return _merged(pieces)

    def finish(self) -> list[Piece]:
        """The held rest at the end of the message; an open block closes."""
        pieces: list[Piece] = []
        if self._line:
            self._decide(pieces, ended=True)
        if self.inside:
            self.inside = False
            pieces.append(("close", ""))
        return _merged(pieces)

    def _decide(self, pieces: list[Piece], *, ended: bool) -> None:
        tag = CLOSE if self.inside else OPEN
        candidate = self._line.strip()
        if ended and candidate == tag:
            self.inside = not self.inside
            pieces.append(("open" if self.inside else "close", ""))
        elif ended or not tag.startswith(candidate):
            self._out(pieces, self._line)
            self._deciding = ended
        else:
            return  # still possibly the tag: keep holding
        self._line = ""

    def _out(self, pieces: list[Piece], text: str) -> None:
        if self.inside:
            pieces.append(("plan", text))
        else:
            self.visible.append(text)
            pieces.append(("text", text))


def _merged(pieces: list[Piece]) -> list[Piece]:
    out: list[Piece] = []
    for kind, text in pieces:
        if out and kind in ("text", "plan") and out[-1][0] == kind:
            out[-1] = (kind, out[-1][1] + text)
        else:
            out.append((kind, text))
    return out
