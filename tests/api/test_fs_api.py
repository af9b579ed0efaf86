"""``fs/*`` methods over stdio, with the reference's error texts."""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path
from typing import Any

import pytest

from tests.support.client import AppServerClient

NOENT = {"code": -32603, "message": "No such file or directory (os error 2)"}
RELATIVE = {
    "code": -32600,
    "message": "Invalid request: AbsolutePathBuf deserialized without a base path",
}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def call(server: AppServerClient, method: str, **params: Any) -> dict[str, Any]:
    return await server.request_raw(method, params)


async def test_write_then_read_round_trips_binary(server: AppServerClient, tmp_path: Path) -> None:
    target = tmp_path / "data.bin"
    payload = bytes(range(256)) * 10
    response = await call(server, "fs/writeFile", path=str(target), dataBase64=b64(payload))
    assert response["result"] == {}
    assert target.read_bytes() == payload
    response = await call(server, "fs/readFile", path=str(target))
    assert base64.b64decode(response["result"]["dataBase64"]) == payload


async def test_write_replaces_atomically_and_keeps_mode(
    server: AppServerClient, tmp_path: Path
) -> None:
    tmp_path = tmp_path / "d"
    tmp_path.mkdir()
    target = tmp_path / "script.sh"
    target.write_text("old")
    target.chmod(0o751)
    link = tmp_path / "link.sh"
    link.symlink_to(target)
    await server.request("fs/writeFile", {"path": str(link), "dataBase64": b64(b"new")})
    assert link.is_symlink()
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o751
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.sh", "script.sh"]


async def test_read_errors(server: AppServerClient, tmp_path: Path) -> None:
    assert (await call(server, "fs/readFile", path=str(tmp_path / "nope")))["error"] == NOENT
    assert (await call(server, "fs/readFile", path=str(tmp_path)))["error"] == {
        "code": -32600,
        "message": f"path `{tmp_path}` is not a file",
    }
    os.mkfifo(tmp_path / "fifo")
    response = await call(server, "fs/readFile", path=str(tmp_path / "fifo"))
    assert response["error"]["message"] == f"path `{tmp_path / 'fifo'}` is not a file"


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("fs/readFile", {"path": "rel/x"}),
        ("fs/readFile", {"path": ""}),
        ("fs/writeFile", {"path": "x", "dataBase64": ""}),
        ("fs/getMetadata", {"path": "x"}),
        ("fs/readDirectory", {"path": "."}),
        ("fs/createDirectory", {"path": "x"}),
        ("fs/remove", {"path": "x"}),
        ("fs/copy", {"sourcePath": "/tmp", "destinationPath": "x"}),
        ("fs/watch", {"watchId": "w", "path": "rel"}),
    ],
)
async def test_relative_paths_are_refused(
    server: AppServerClient, method: str, params: dict[str, Any]
) -> None:
    assert (await server.request_raw(method, params))["error"] == RELATIVE


async def test_write_errors(server: AppServerClient, tmp_path: Path) -> None:
    response = await call(server, "fs/writeFile", path=str(tmp_path / "x"), dataBase64="!!")
    assert response["error"] == {
        "code": -32600,
        "message": "fs/writeFile requires valid base64 dataBase64: Invalid symbol 33, offset 0.",
    }
    response = await call(server, "fs/writeFile", path=str(tmp_path / "x"), dataBase64="aGk")
    assert response["error"]["message"].endswith("dataBase64: Invalid padding")
    response = await call(server, "fs/writeFile", path=str(tmp_path / "no/x"), dataBase64="")
    assert response["error"] == NOENT
    response = await call(server, "fs/writeFile", path=str(tmp_path), dataBase64="")
    assert response["error"] == {"code": -32603, "message": "Is a directory (os error 21)"}


async def test_create_directory(server: AppServerClient, tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b" / "c"
    assert await server.request("fs/createDirectory", {"path": str(deep)}) == {}
    assert deep.is_dir()
    assert await server.request("fs/createDirectory", {"path": str(deep)}) == {}
    response = await call(server, "fs/createDirectory", path=str(deep), recursive=False)
    assert response["error"] == {"code": -32603, "message": "File exists (os error 17)"}
    response = await call(server, "fs/createDirectory", path=str(tmp_path / "x/y"), recursive=False)
    assert response["error"] == NOENT


async def test_get_metadata(server: AppServerClient, tmp_path: Path) -> None:
    file = tmp_path / "f.txt"
    file.write_text("hi")
    (tmp_path / "link").symlink_to(file)
    (tmp_path / "dangling").symlink_to(tmp_path / "missing")
    meta = await server.request("fs/getMetadata", {"path": str(file)})
    assert meta["isFile"] is True and meta["isDirectory"] is False and meta["isSymlink"] is False
    assert meta["modifiedAtMs"] == file.stat().st_mtime_ns // 1_000_000
    assert isinstance(meta["createdAtMs"], int)
    meta = await server.request("fs/getMetadata", {"path": str(tmp_path / "link")})
    assert (meta["isFile"], meta["isSymlink"]) == (True, True)
    meta = await server.request("fs/getMetadata", {"path": str(tmp_path)})
    assert (meta["isDirectory"], meta["isFile"]) == (True, False)
    response = await call(server, "fs/getMetadata", path=str(tmp_path / "dangling"))
    assert response["error"] == NOENT


async def test_read_directory(server: AppServerClient, tmp_path: Path) -> None:
    tmp_path = tmp_path / "d"
    tmp_path.mkdir()
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "link").symlink_to(tmp_path / "a.txt")
    (tmp_path / "dangling").symlink_to(tmp_path / "missing")
    os.mkfifo(tmp_path / "fifo")
    result = await server.request("fs/readDirectory", {"path": str(tmp_path)})
    entries = sorted(result["entries"], key=lambda e: e["fileName"])
    assert entries == [
        {"fileName": "a.txt", "isDirectory": False, "isFile": True},
        {"fileName": "fifo", "isDirectory": False, "isFile": False},
        {"fileName": "link", "isDirectory": False, "isFile": True},
        {"fileName": "sub", "isDirectory": True, "isFile": False},
    ]
    response = await call(server, "fs/readDirectory", path=str(tmp_path / "a.txt"))
    assert response["error"] == {"code": -32603, "message": "Not a directory (os error 20)"}
    assert (await call(server, "fs/readDirectory", path=str(tmp_path / "nope")))["error"] == NOENT


async def test_remove(server: AppServerClient, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "f").write_text("x")
    response = await call(server, "fs/remove", path=str(tree), recursive=False)
    assert response["error"] == {"code": -32603, "message": "Directory not empty (os error 39)"}
    assert await server.request("fs/remove", {"path": str(tree)}) == {}
    assert not tree.exists()
    assert await server.request("fs/remove", {"path": str(tree)}) == {}
    response = await call(server, "fs/remove", path=str(tree), force=False)
    assert response["error"] == NOENT
    empty = tmp_path / "empty"
    empty.mkdir()
    assert await server.request("fs/remove", {"path": str(empty), "recursive": False}) == {}
    assert not empty.exists()


async def test_copy(server: AppServerClient, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("a")
    (src / "sub" / "b.txt").write_text("b")
    (src / "link").symlink_to("a.txt")
    os.mkfifo(src / "fifo")
    dst = tmp_path / "dst"
    response = await call(server, "fs/copy", sourcePath=str(src), destinationPath=str(dst))
    assert response["error"] == {
        "code": -32600,
        "message": "fs/copy requires recursive: true when sourcePath is a directory",
    }
    response = await call(
        server,
        "fs/copy",
        sourcePath=str(src),
        destinationPath=str(src / "sub" / "x"),
        recursive=True,
    )
    assert response["error"] == {
        "code": -32600,
        "message": "fs/copy cannot copy a directory to itself or one of its descendants",
    }
    await server.request(
        "fs/copy", {"sourcePath": str(src), "destinationPath": str(dst), "recursive": True}
    )
    assert sorted(p.name for p in dst.iterdir()) == ["a.txt", "link", "sub"]
    assert (dst / "sub" / "b.txt").read_text() == "b"
    assert os.readlink(dst / "link") == "a.txt"
    # A file copied onto an existing directory fails like the reference.
    response = await call(
        server, "fs/copy", sourcePath=str(src / "a.txt"), destinationPath=str(dst)
    )
    assert response["error"] == {"code": -32603, "message": "Is a directory (os error 21)"}
    await server.request(
        "fs/copy", {"sourcePath": str(src / "a.txt"), "destinationPath": str(tmp_path / "c.txt")}
    )
    assert (tmp_path / "c.txt").read_text() == "a"
    response = await call(
        server, "fs/copy", sourcePath=str(tmp_path / "nope"), destinationPath=str(tmp_path / "z")
    )
    assert response["error"] == NOENT


# -- watches --------------------------------------------------------------------------------
async def changed(server: AppServerClient, watch_id: str, timeout: float = 5) -> list[str]:
    params = await server.wait_notification(
        "fs/changed", timeout=timeout, where=lambda p: p.get("watchId") == watch_id
    )
    return params["changedPaths"]  # type: ignore[no-any-return]


async def test_watch_directory_and_file(server: AppServerClient, tmp_path: Path) -> None:
    watched = tmp_path / "wt"
    (watched / "sub").mkdir(parents=True)
    file = watched / "f.txt"
    file.write_text("a")
    assert await server.request("fs/watch", {"watchId": "d", "path": str(watched)}) == {
        "path": str(watched)
    }
    assert await server.request("fs/watch", {"watchId": "f", "path": str(file)}) == {
        "path": str(file)
    }
    response = await call(server, "fs/watch", watchId="d", path=str(watched / "sub"))
    assert response["error"] == {"code": -32600, "message": "watchId already exists: d"}

    with file.open("a") as fh:
        fh.write("b")
    assert await changed(server, "d") == [str(file)]
    assert await changed(server, "f") == [str(file)]

    (watched / "new.txt").write_text("n")
    assert await changed(server, "d") == [str(watched / "new.txt")]

    # The file watch survives an atomic replace.
    tmp = watched / "f.tmp"
    tmp.write_text("r")
    tmp.replace(file)
    assert await changed(server, "f") == [str(file)]
    assert await changed(server, "d") == [str(tmp), str(file)]
    with file.open("a") as fh:
        fh.write("again")
    assert await changed(server, "f") == [str(file)]

    # Changes deeper than one level are not reported for a directory watch.
    (watched / "sub" / "deep.txt").write_text("x")
    await asyncio.sleep(0.4)
    assert all(
        str(watched / "sub" / "deep.txt") not in m["params"]["changedPaths"]
        for m in server.notifications("fs/changed")
    )


async def test_unwatch_stops_notifications(server: AppServerClient, tmp_path: Path) -> None:
    target = tmp_path / "later.txt"
    # Watching a path that does not exist yet works; its creation is reported.
    assert await server.request("fs/watch", {"watchId": "w", "path": str(target)}) == {
        "path": str(target)
    }
    target.write_text("x")
    assert await changed(server, "w") == [str(target)]
    assert await server.request("fs/unwatch", {"watchId": "w"}) == {}
    assert await server.request("fs/unwatch", {"watchId": "unknown"}) == {}
    before = len(server.notifications("fs/changed"))
    target.write_text("y")
    await asyncio.sleep(0.4)
    assert len(server.notifications("fs/changed")) == before


async def test_watch_by_polling(spawn: Any, tmp_path: Path) -> None:
    client = await spawn(env={"PYCODEX_FS_WATCH": "poll"})
    target = tmp_path / "p.txt"
    target.write_text("1")
    await client.request("fs/watch", {"watchId": "p", "path": str(target)})
    await asyncio.sleep(0.05)
    target.write_text("22")
    assert await changed(client, "p") == [str(target)]
