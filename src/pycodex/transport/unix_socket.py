"""The control-socket listener: ``--listen unix://`` or ``unix://PATH``, the same websocket
protocol as ``ws://`` carried over a Unix-domain socket (what ``codex --remote unix://…``
connects to).

``unix://`` means ``$CODEX_HOME/app-server-control/app-server-control.sock``. Like the
reference, the socket itself lives in a private directory ``/tmp/codex-daemon-<uid>`` (mode
0700) under the SHA-256 of the requested path, so any path fits the 108-byte limit of a
socket address, and the requested path is a symlink to it. The socket is mode 0600. A live
socket at the path is an error; a stale one is replaced. Both are removed on exit.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import socket
import stat
import tempfile
from pathlib import Path

from pycodex.rpc.server import RpcServer
from pycodex.transport.listen import ListenError
from pycodex.transport.websocket import (
    MAX_FRAME,
    make_handler,
    make_process_request,
    make_process_response,
)

logger = logging.getLogger(__name__)

CONTROL_DIR = "app-server-control"
CONTROL_SOCKET = "app-server-control.sock"
#: Announced on upgrade, as the reference does on its control socket.
MAX_UNFRAGMENTED = 16 * 1024 * 1024


def default_socket_path(codex_home: Path) -> Path:
    """Where ``--listen unix://`` puts the control socket."""
    return codex_home / CONTROL_DIR / CONTROL_SOCKET


def _private_dir(path: Path) -> None:
    """Create ``path`` (mode 0700) or check that an existing one is ours and private."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid not in (os.getuid(), 0) or (
        info.st_mode & 0o022
    ):
        raise ListenError(
            f"socket parent must be owned by the user or root and prevent other users "
            f"from replacing socket entries: {path}"
        )


def _backing_path(requested: Path) -> Path:
    """The real socket file behind ``requested``."""
    digest = hashlib.sha256(str(requested).encode()).hexdigest()
    return Path(tempfile.gettempdir()) / f"codex-daemon-{os.getuid()}" / digest


def _in_use(path: Path) -> bool:
    """Whether something accepts connections on the socket at ``path``."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError as exc:
        if exc.errno in (errno.ECONNREFUSED, errno.ENOENT):
            return False
        raise
    finally:
        probe.close()
    return True


def prepare_socket_path(requested: Path) -> Path:
    """Make ``requested`` ready to listen on; returns the real socket path to bind."""
    requested.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if requested.is_symlink() or requested.exists():
        if _in_use(requested.resolve()):  # the short target: any path fits
            raise ListenError(f"app-server control socket is already in use at {requested}")
        target = requested.resolve()
        if requested.is_symlink() or stat.S_ISSOCK(requested.lstat().st_mode):
            requested.unlink()
        else:
            raise ListenError(
                f"app-server control socket path exists and is not a socket: {requested}"
            )
        if target != requested and target.exists() and stat.S_ISSOCK(target.lstat().st_mode):
            target.unlink()
    backing = _backing_path(requested)
    _private_dir(backing.parent)
    with contextlib.suppress(FileNotFoundError):
        if stat.S_ISSOCK(backing.lstat().st_mode) and not _in_use(backing):
            backing.unlink()
    return backing


async def serve_unix(server: RpcServer, requested: Path) -> None:
    """Serve websocket connections on the control socket until cancelled."""
    from websockets.asyncio.server import unix_serve

    try:
        backing = prepare_socket_path(requested)
        listener = await unix_serve(
            make_handler(server),
            str(backing),
            process_request=make_process_request(None),
            process_response=make_process_response(MAX_UNFRAGMENTED),
            server_header=None,
            compression=None,
            max_size=MAX_FRAME,
            logger=logging.getLogger("websockets.server"),
        )
    except OSError as exc:
        raise ListenError(f"{os.strerror(exc.errno or 0)} (os error {exc.errno})") from None
    try:
        os.chmod(backing, 0o600)
        os.symlink(backing, requested)
        logger.info("app-server control socket listening socket_path=%s", requested)
        async with listener:
            await listener.serve_forever()
    finally:
        for path in (requested, backing):
            with contextlib.suppress(OSError):
                path.unlink()
