"""The most recent log lines of this process, kept in memory for feedback reports
(``feedback/save`` puts them in the archive; nothing is written to disk)."""

from __future__ import annotations

import collections
import logging
import threading

#: Lines kept; older ones are dropped.
CAPACITY = 2000


class RecentLogs(logging.Handler):
    """A logging handler that keeps the last :data:`CAPACITY` formatted records."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        super().__init__()
        self._lines: collections.deque[str] = collections.deque(maxlen=capacity)
        self._guard = threading.Lock()
        self.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # a bad record must never break logging
            return
        with self._guard:
            self._lines.append(line)

    def text(self) -> str:
        with self._guard:
            return "".join(f"{line}\n" for line in self._lines)


RECENT = RecentLogs()
