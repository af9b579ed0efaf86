"""The handshake and wire rules of issue 2 §3, driven over stdio."""

from __future__ import annotations

import asyncio
import platform

from tests.conftest import ServerFactory
from tests.support.client import wait_for_line


async def test_initialize_reports_user_agent_and_platform(spawn: ServerFactory) -> None:
    client = await spawn(initialize=False)
    result = await client.initialize(name="probe", version="0.0.1")
    assert result["userAgent"].startswith("probe/0.171.0 (")
    assert result["userAgent"].endswith(
        f"; {platform.machine()}) unknown (probe; 0.0.1)"
    ) or result["userAgent"].endswith("(probe; 0.0.1)")
    assert result["codexHome"] == str(client.codex_home)
    assert result["platformFamily"] == "unix"
    assert result["platformOs"] == "linux"


async def test_requests_before_initialize_are_refused(spawn: ServerFactory) -> None:
    client = await spawn(initialize=False)
    response = await client.request_raw("collaborationMode/list", {})
    assert response["error"] == {"code": -32600, "message": "Not initialized"}


async def test_second_initialize_is_refused(server) -> None:  # type: ignore[no-untyped-def]
    response = await server.request_raw(
        "initialize", {"clientInfo": {"name": "again", "version": "1"}}
    )
    assert response["error"] == {"code": -32600, "message": "Already initialized"}


async def test_invalid_client_name_is_refused(spawn: ServerFactory) -> None:
    client = await spawn(initialize=False)
    response = await client.request_raw(
        "initialize", {"clientInfo": {"name": "bad\nname", "version": "1"}}
    )
    assert response["error"] == {
        "code": -32600,
        "message": "Invalid clientInfo.name: 'bad\nname'. Must be a valid HTTP header value.",
    }
    # The connection is still usable: a valid initialize succeeds afterwards.
    assert "userAgent" in await client.initialize()


async def test_unknown_method_lists_known_methods(server) -> None:  # type: ignore[no-untyped-def]
    response = await server.request_raw("foo/bar", {})
    message = response["error"]["message"]
    assert response["error"]["code"] == -32600
    assert message.startswith(
        "Invalid request: unknown variant `foo/bar`, expected one of `initialize`, "
    )
    assert "`collaborationMode/list`" in message


async def test_ids_are_echoed_with_their_type(server) -> None:  # type: ignore[no-untyped-def]
    for rid in ("abc", 77, "12"):
        response = await server.request_raw("mock/experimentalMethod", {}, request_id=rid)
        assert response["id"] == rid
        assert type(response["id"]) is type(rid)


async def test_jsonrpc_member_is_accepted_and_never_sent(server) -> None:  # type: ignore[no-untyped-def]
    await server.send({"jsonrpc": "2.0", "method": "foo/x", "id": 900, "params": {}})
    response = await server.wait_for(lambda m: m.get("id") == 900)
    assert "jsonrpc" not in response and response["error"]["code"] == -32600


async def test_experimental_gate_and_opt_in(spawn: ServerFactory) -> None:
    plain = await spawn()
    response = await plain.request_raw("collaborationMode/list", {})
    assert response["error"] == {
        "code": -32600,
        "message": "collaborationMode/list requires experimentalApi capability",
    }
    opted = await spawn(initialize=False)
    await opted.initialize(experimental=True)
    result = await opted.request("collaborationMode/list", {})
    assert {m["mode"] for m in result["data"]} == {"plan", "default"}
    assert await opted.request("mock/experimentalMethod", {"value": "v"}) == {"echoed": "v"}


async def test_bad_params_get_serde_style_errors(server) -> None:  # type: ignore[no-untyped-def]
    response = await server.request_raw("initialize", {"clientInfo": {"name": 42, "version": "1"}})
    assert response["error"] == {
        "code": -32600,
        "message": "Invalid request: invalid type: integer `42`, expected a string",
    }
    response = await server.request_raw("initialize", {"clientInfo": {"version": "1"}})
    assert response["error"]["message"] == "Invalid request: missing field `name`"
    response = await server.request_raw("mock/experimentalMethod", omit_params=True)
    assert response["error"]["message"] == "Invalid request: missing field `params`"


async def test_malformed_lines_are_dropped_and_the_server_carries_on(spawn: ServerFactory) -> None:
    server = await spawn(process=True)  # stdio framing and the process are under test
    await server.send_raw(b"{not json\n")
    await server.send_raw(b"\xff\xfe invalid utf-8 \xc3\x28\n")
    await server.send_raw(b"[1,2,3]\n")
    await server.send_raw(b'{"method": 5, "id": 1}\n')
    await server.send_raw(b"\n\n")
    response = await server.request_raw("foo/after", {})
    assert response["error"]["code"] == -32600
    # Nothing but that one answer came back for the garbage.
    answers = [m for m in server.received if "id" in m and "method" not in m]
    assert len(answers) == 2  # initialize + foo/after
    assert await wait_for_line(server.stderr_lines, "Failed to deserialize JSONRPCMessage")


async def test_stdin_eof_exits_cleanly_and_quickly(spawn: ServerFactory) -> None:
    server = await spawn(process=True)  # stdio framing and the process are under test
    loop = asyncio.get_running_loop()
    start = loop.time()
    code = await server.close()
    assert code == 0
    assert loop.time() - start < 2.0


async def test_logs_never_go_to_stdout(spawn: ServerFactory) -> None:
    server = await spawn(process=True)  # stdio framing and the process are under test
    await server.send_raw(b"{broken\n")
    await server.request_raw("foo/x", {})
    await server.close()
    for raw in server.raw_lines:
        assert raw.startswith(b"{") and raw.endswith(b"}\n")


async def test_unknown_enum_values_list_variants_in_declaration_order(server) -> None:  # type: ignore[no-untyped-def]
    # Texts measured on the reference 0.169.0.
    response = await server.request_raw("thread/start", {"approvalPolicy": "on-failure"})
    assert response["error"]["message"] == (
        "Invalid request: unknown variant `on-failure`, expected one of `untrusted`, "
        "`on-request`, `granular`, `never`")
    response = await server.request_raw("thread/start", {"sandbox": "bogus"})
    assert response["error"]["message"] == (
        "Invalid request: unknown variant `bogus`, expected one of `read-only`, "
        "`workspace-write`, `danger-full-access`")


def test_bad_listen_urls_fail_like_the_reference() -> None:
    import subprocess

    from tests.support.client import server_command

    cases = {
        "http://1.2.3.4:5": "unsupported --listen URL `http://1.2.3.4:5`; expected `stdio://`, "
                            "`unix://`, `unix://PATH`, `ws://IP:PORT`, or `off`",
        "ws://localhost:1": "invalid websocket --listen URL `ws://localhost:1`; expected "
                            "`ws://IP:PORT`",
    }
    for url, reason in cases.items():
        done = subprocess.run(server_command("--listen", url), capture_output=True, text=True,
                              timeout=30, stdin=subprocess.DEVNULL)
        assert done.returncode == 2
        assert done.stderr == (f"error: invalid value '{url}' for '--listen <URL>': {reason}\n\n"
                               "For more information, try '--help'.\n")
