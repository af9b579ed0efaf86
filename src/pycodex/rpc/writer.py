"""The output queue of one connection, drained into its transport by one task."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

#: Messages queued for one connection before the connection counts as backed up.
HIGH_WATER = 4096
#: Bytes queued for a connection and not yet accepted by its transport before the peer
#: counts as not reading ("slow consumer"). Generous: a client that keeps reading never
#: gets near it (20 busy threads of 2,000 deltas each are ~10 MB in all).
MAX_UNSENT_BYTES = 64 * 1024 * 1024
#: Most bytes handed to the transport in one write (the rest waits for the next round).
BATCH_BYTES = 1024 * 1024
#: Seconds a backed-up connection may go without any write completing before its peer
#: counts as not reading (producers wait on it meanwhile, so memory stays bounded).
STALL_SECONDS = 10.0


class Pieces:
    """One message in several pieces (a big answer, :mod:`pycodex.rpc.pieces`): written
    a piece at a time, never joined into one buffer (a stream transport writes them back
    to back; the websocket transport as the fragments of one message)."""

    __slots__ = ("parts", "size")

    def __init__(self, parts: list[bytes | bytearray]) -> None:
        self.parts = parts
        self.size = sum(map(len, parts))


#: What a connection's queue holds: a message, a message in pieces, or one still being
#: encoded (everything queued after it waits for it: order is kept).
Queued = bytes | Pieces | asyncio.Task[Pieces]


class ConnectionWriter:
    """Queued frames for one connection.

    Everything queued is written in batches: ``batch=True`` (stdio) joins the frames into
    one write through ``send``; ``send_frames`` (websocket) gets the list of frames to write
    as separate messages with one flush. When more than ``high_water`` frames wait,
    :meth:`wait_writable` blocks until the transport catches up. When more than
    ``max_unsent_bytes`` are waiting, or the connection stays backed up for
    ``stall_seconds`` without a single write completing, ``on_backed_up`` (e.g. "close the
    slow websocket consumer") is called once. A peer that keeps reading, however slowly,
    is never given up on.
    """

    def __init__(
        self,
        send: Callable[[bytes], Awaitable[None]],
        *,
        batch: bool,
        high_water: int = HIGH_WATER,
        max_unsent_bytes: int = MAX_UNSENT_BYTES,
        on_backed_up: Callable[[], None] | None = None,
        send_frames: Callable[[list[bytes | Pieces]], Awaitable[None]] | None = None,
        stall_seconds: float = STALL_SECONDS,
    ) -> None:
        self._send = send
        self._send_frames = send_frames
        self._batch = batch
        self._high_water = high_water
        self._max_unsent = max_unsent_bytes
        self._on_backed_up = on_backed_up
        self._queue: deque[Queued] = deque()
        self._unsent = 0
        self._wake = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()
        self._closing = False
        self._failed = False
        self._overflowed = False
        self._stall_seconds = stall_seconds
        self._writes = 0  # completed writes: the peer's progress
        self._stall_watch: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="connection-writer")

    @property
    def backed_up(self) -> bool:
        return len(self._queue) >= self._high_water

    @property
    def unsent_bytes(self) -> int:
        """Bytes queued or being written and not yet accepted by the transport."""
        return self._unsent

    def push(self, frame: bytes) -> None:
        self.push_many([frame])

    def push_many(self, frames: list[bytes]) -> None:
        """Queue ``frames`` in order."""
        if self._closing or self._failed:
            return
        self._queue.extend(frames)
        self._unsent += sum(map(len, frames))
        self._after_push()

    def push_later(self, message: asyncio.Task[Pieces]) -> None:
        """Queue a message still being encoded; what is queued after it waits for it."""
        if self._closing or self._failed:
            message.cancel()
            return
        self._queue.append(message)
        self._after_push()

    def _after_push(self) -> None:
        self._wake.set()
        if len(self._queue) >= self._high_water and self._writable.is_set():
            self._writable.clear()
            if self._on_backed_up is not None and self._stall_watch is None:
                self._stall_watch = asyncio.get_running_loop().create_task(self._watch_stall())
        if self._unsent > self._max_unsent:
            self._give_up()

    def _give_up(self) -> None:
        if not self._overflowed:
            self._overflowed = True
            if self._on_backed_up is not None:
                self._on_backed_up()

    async def _watch_stall(self) -> None:
        """While backed up, give up on the peer once a whole stall period passes without
        any write completing."""
        try:
            while not self._writable.is_set() and not self._closing:
                seen = self._writes
                try:
                    await asyncio.wait_for(self._writable.wait(), self._stall_seconds)
                except TimeoutError:
                    if self._writes == seen:
                        self._give_up()
                        return
        finally:
            self._stall_watch = None

    async def wait_writable(self) -> None:
        if not self._failed:
            await self._writable.wait()

    async def _take_batch(self) -> tuple[list[bytes | Pieces], int, bool]:
        """Messages from the head of the queue, up to :data:`BATCH_BYTES` (at least one; a
        message still being encoded is waited for first), their size, and whether they
        are all plain bytes."""
        queue = self._queue
        head = queue[0]
        if isinstance(head, asyncio.Task):
            pieces = await head  # (it never fails: see OutgoingSender.send_response)
            queue[0] = pieces
            self._unsent += pieces.size
        frames: list[bytes | Pieces] = []
        size = 0
        plain = True
        while queue and size < BATCH_BYTES:
            frame = queue.popleft()
            if type(frame) is bytes:
                size += len(frame)
            elif isinstance(frame, Pieces):
                size += frame.size
                plain = False
            elif isinstance(frame, asyncio.Task):  # the next one still being encoded
                queue.appendleft(frame)
                break
            else:
                size += len(frame)
            frames.append(frame)
        return frames, size, plain

    async def _write(self, frames: list[bytes | Pieces], plain: bool) -> None:
        if self._send_frames is not None:
            await self._send_frames(frames)
        elif plain and self._batch:
            await self._send(b"".join(frames))  # type: ignore[arg-type]  # (all bytes)
        elif self._batch:  # a stream: a big answer's pieces in writes of BATCH_BYTES
            group: list[bytes | bytearray] = []
            size = 0
            for frame in frames:
                for part in frame.parts if isinstance(frame, Pieces) else (frame,):
                    group.append(part)
                    size += len(part)
                    if size >= BATCH_BYTES:
                        await self._send(b"".join(group))
                        group, size = [], 0
            if group:
                await self._send(b"".join(group))
        else:
            for frame in frames:
                await self._send(frame if isinstance(frame, bytes) else b"".join(frame.parts))

    async def _run(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._queue:
                    frames, size, plain = await self._take_batch()
                    await self._write(frames, plain)
                    self._writes += 1
                    self._unsent -= size
                    if len(self._queue) < self._high_water:
                        self._writable.set()
                if self._closing:
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the peer went away
            logger.info("connection writer stopped: %s", exc)
            self._failed = True
            for item in self._queue:
                if isinstance(item, asyncio.Task):
                    item.cancel()
            self._queue.clear()
            self._unsent = 0
            self._writable.set()

    async def close(self, timeout: float = 2.0) -> None:
        """Flush what is queued (bounded by ``timeout``) and stop; producers waiting in
        :meth:`wait_writable` are released."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()
            except Exception:  # pragma: no cover - already logged
                pass
        if self._stall_watch is not None:
            self._stall_watch.cancel()
        for item in self._queue:
            if isinstance(item, asyncio.Task):
                item.cancel()
        self._queue.clear()
        self._unsent = 0
        self._writable.set()
