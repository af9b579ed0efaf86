"""The app-server's websocket message compression, ``zstd-stream-v1``.

A client asks for it with ``x-codex-app-server-compression: zstd-stream-v1`` on its
upgrade request (the Codex TUI does); the server agrees by echoing the header. Each
direction is then one zstd stream for the life of the connection: every JSON-RPC message
is compressed into it, flushed to a block boundary and sent as one binary frame, so the
peer can decode each message as it arrives while later messages reuse the earlier ones'
window. Without the header, frames are plain text. Windows are kept to 1 MiB (what the
TUI's decoder accepts).
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import zstandard

HEADER = "x-codex-app-server-compression"
ZSTD_STREAM_V1 = "zstd-stream-v1"
#: log2 of the compression window; the TUI refuses frames with larger windows.
WINDOW_LOG = 20
#: Largest window accepted from a peer.
MAX_PEER_WINDOW = 1 << 23
LEVEL = 3


class CompressionError(Exception):
    """A compressed message could not be decoded (the connection cannot continue)."""


def wants_zstd_stream(values: Iterable[str]) -> bool:
    """Whether the upgrade request's compression header values offer ``zstd-stream-v1``."""
    return any(
        token.strip().lower() == ZSTD_STREAM_V1 for value in values for token in value.split(",")
    )


class _BoundedSink(io.BytesIO):
    """Collects one decoded message; refuses to grow past ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if self.tell() + len(data) > self.limit:
            raise CompressionError(
                f"decompressed message exceeds the {self.limit}-byte limit"
            )
        return super().write(data)

    def take(self) -> bytes:
        data = self.getvalue()
        self.seek(0)
        self.truncate()
        return data


class ZstdStreamCodec:
    """Both directions of one connection's ``zstd-stream-v1`` streams."""

    def __init__(self, max_message: int) -> None:
        params = zstandard.ZstdCompressionParameters.from_level(LEVEL, window_log=WINDOW_LOG)
        self._compressor = zstandard.ZstdCompressor(compression_params=params).compressobj()
        self._sink = _BoundedSink(max_message)
        self._decompressor = zstandard.ZstdDecompressor(
            max_window_size=MAX_PEER_WINDOW
        ).stream_writer(self._sink, write_size=1 << 16, closefd=False)

    def compress(self, message: bytes) -> bytes:
        """``message`` as the next binary frame of the outgoing stream."""
        return self.compress_part(message, last=True)

    def compress_part(self, part: bytes | bytearray, *, last: bool) -> bytes:
        """A part of the next message (a big answer's piece): what the stream has ready,
        everything once ``last`` (the message's fragments, joined, decompress to it)."""
        data = self._compressor.compress(part)
        return data + self._compressor.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK) if last else data

    def decompress(self, frame: bytes) -> bytes:
        """The message carried by the next binary frame of the incoming stream."""
        try:
            self._decompressor.write(frame)
        except zstandard.ZstdError as exc:
            self._sink.take()
            raise CompressionError(f"invalid compressed message: {exc}") from None
        except CompressionError:
            self._sink.take()
            raise
        return self._sink.take()
