"""Command line: ``pycodex app-server [--listen URL] [-c key=value] ...`` and the schema
generators ``pycodex app-server generate-json-schema|generate-ts --out DIR``."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pycodex import PROTOCOL_VERSION, __version__

if TYPE_CHECKING:
    import asyncio

    from pycodex.api.context import AppState
    from pycodex.api.dispatch import ApiDispatcher
    from pycodex.rpc.outgoing import OutgoingSender
    from pycodex.transport.stdio_start import StdioStart

logger = logging.getLogger("pycodex")


class CliError(Exception):
    """A start-up error printed as ``Error: <message>`` with exit code 1."""


def parse_override(text: str) -> tuple[str, Any]:
    """``key=value`` with ``value`` parsed as TOML, or kept as a raw string."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"Invalid override (missing '='): {text}")
    import tomllib

    try:
        value = tomllib.loads(f"_v = {raw}")["_v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key.strip(), value


def _listen(value: str) -> Any:
    from pycodex.transport.listen import ListenUrlError, parse_listen_url

    try:
        return parse_listen_url(value)
    except ListenUrlError as exc:
        raise argparse.ArgumentTypeError(
            f"invalid value '{value}' for '--listen <URL>': {exc}") from None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # clap-like wording, exit code 2
        prefix = "argument --listen: "
        if message.startswith(prefix + "invalid value"):
            message = message[len(prefix):]
        self.exit(2, f"error: {message}\n\nFor more information, try '--help'.\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="pycodex", description="A Python Codex app-server.")
    parser.add_argument(
        "--version",
        action="version",
        version=f"pycodex {__version__} (protocol {PROTOCOL_VERSION})",
    )
    parser.add_argument(
        "-c",
        "--config",
        dest="overrides",
        action="append",
        type=parse_override,
        default=[],
        metavar="key=value",
        help="Override a config.toml value.",
    )
    sub = parser.add_subparsers(dest="command")
    app = sub.add_parser("app-server", help="Run the app server or related tooling.")
    app.add_argument(
        "-c",
        "--config",
        dest="app_overrides",
        action="append",
        type=parse_override,
        default=[],
        metavar="key=value",
        help="Override a config.toml value (dotted key, TOML value).",
    )
    app.add_argument(
        "--enable",
        action="append",
        default=[],
        metavar="FEATURE",
        help="Enable a feature (same as -c features.<name>=true).",
    )
    app.add_argument(
        "--disable",
        action="append",
        default=[],
        metavar="FEATURE",
        help="Disable a feature (same as -c features.<name>=false).",
    )
    app.add_argument(
        "--listen",
        type=_listen,
        default=None,
        metavar="URL",
        help="stdio:// (default), unix://, unix://PATH, ws://IP:PORT, or off.",
    )
    app.add_argument("--stdio", action="store_true", help="Same as --listen stdio://.")
    app.add_argument(
        "--ws-auth",
        choices=["capability-token", "signed-bearer-token"],
        metavar="MODE",
        help="capability-token or signed-bearer-token.",
    )
    app.add_argument("--ws-token-file", metavar="PATH")
    app.add_argument("--ws-token-sha256", metavar="HEX")
    app.add_argument("--ws-shared-secret-file", metavar="PATH")
    app.add_argument("--ws-issuer", metavar="ISSUER")
    app.add_argument("--ws-audience", metavar="AUDIENCE")
    app.add_argument("--ws-max-clock-skew-seconds", type=int, metavar="SECONDS")
    tools = app.add_subparsers(dest="tool")
    for name, text in (
        ("generate-json-schema", "Generate JSON Schema for the protocol."),
        ("generate-ts", "Generate TypeScript bindings for the protocol."),
    ):
        tool = tools.add_parser(name, help=text)
        tool.add_argument("-o", "--out", required=True, type=Path, metavar="DIR")
        tool.add_argument(
            "--experimental", action="store_true", help="Include experimental methods and fields."
        )
    return parser


def codex_home() -> Path:
    env = os.environ.get("CODEX_HOME")
    return Path(env).expanduser().absolute() if env else Path.home() / ".codex"


def main(argv: list[str] | None = None) -> int:
    # httpcore probes for trio when it is installed; the server runs on asyncio only.
    sys.modules.setdefault("trio", None)  # type: ignore[arg-type]
    args = build_parser().parse_args(argv)
    if args.command != "app-server":
        build_parser().print_help(sys.stderr)
        return 2
    from pycodex.logs import setup_logging

    setup_logging()
    try:
        if args.tool == "generate-json-schema":
            from pycodex.protocol.schema_export import write_json_schema

            write_json_schema(args.out, experimental=args.experimental)
            return 0
        if args.tool == "generate-ts":
            from pycodex.protocol.ts_export import write_typescript

            write_typescript(args.out, experimental=args.experimental)
            return 0
        return run_app_server(args)
    except CliError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1


def _overrides(args: argparse.Namespace) -> list[tuple[str, Any]]:
    overrides = list(args.overrides) + list(args.app_overrides)
    overrides += [(f"features.{name}", True) for name in args.enable]
    overrides += [(f"features.{name}", False) for name in args.disable]
    return overrides


def run_app_server(args: argparse.Namespace) -> int:
    from pycodex.transport.listen import ListenError, ListenTarget

    target: ListenTarget = args.listen or ListenTarget("stdio")
    if args.stdio:
        target = ListenTarget("stdio")
    ws_auth = None
    if target.kind == "ws" or any(
        getattr(args, flag) is not None
        for flag in (
            "ws_auth",
            "ws_token_file",
            "ws_token_sha256",
            "ws_shared_secret_file",
            "ws_issuer",
            "ws_audience",
            "ws_max_clock_skew_seconds",
        )
    ):
        from pycodex.transport.ws_auth import WsAuthConfigError, load_ws_auth

        try:
            ws_auth = load_ws_auth(args)
        except WsAuthConfigError as exc:
            raise CliError(str(exc)) from None
    from pycodex.api.bootstrap import create_app
    from pycodex.api.context import ServerOptions
    from pycodex.api.dispatch import ApiDispatcher
    from pycodex.rpc.outgoing import OutgoingSender
    from pycodex.transport.stdio_start import StopBeforeLoop, start_stdio

    options = ServerOptions(codex_home=codex_home(), cli_overrides=_overrides(args))
    sender = OutgoingSender()
    try:
        app = create_app(options, sender)
        dispatcher = ApiDispatcher(app)
        # A spawned stdio server answers ``initialize`` before importing the event loop.
        start = start_stdio(dispatcher, STOP_SIGNALS) if target.kind == "stdio" else None
        import asyncio

        asyncio.run(_serve(target, ws_auth, app, sender, dispatcher, start))
    except KeyboardInterrupt:
        return 130
    except StopBeforeLoop as exc:
        logger.info("received %s; shutting down", exc)
    except ListenError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:  # e.g. the websocket port is taken
        raise CliError(str(exc)) from None
    return 0


#: Signals that end the server gracefully (interrupt turns, kill their commands, flush).
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


async def _serve(
    target: Any,
    ws_auth: Any,
    app: AppState,
    sender: OutgoingSender,
    dispatcher: ApiDispatcher,
    start: StdioStart | None,
) -> None:
    import asyncio

    from pycodex.rpc.server import RpcServer

    server = RpcServer(app, sender, dispatcher)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, _request_stop, sig, stop)
    serving = loop.create_task(_transport(server, target, ws_auth, start), name="transport")
    stopping = loop.create_task(stop.wait(), name="stop-signal")
    try:
        await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        # Stop reading first, then interrupt turns, kill their commands, flush rollouts.
        stopping.cancel()
        serving.cancel()
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await serving  # re-raises a listener's start-up error
        finally:
            await server.shutdown()
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)


def _request_stop(sig: signal.Signals, stop: asyncio.Event) -> None:
    logger.info("received %s; shutting down", sig.name)
    stop.set()


async def _transport(server: Any, target: Any, ws_auth: Any, start: StdioStart | None) -> None:
    import asyncio

    if target.kind == "stdio":
        from pycodex.transport.stdio import serve_stdio

        await serve_stdio(server, start)
    elif target.kind == "ws":
        from pycodex.transport.websocket import serve_websocket

        await serve_websocket(server, target.host, target.port, ws_auth)
    elif target.kind == "unix":
        from pycodex.transport.unix_socket import default_socket_path, serve_unix

        await serve_unix(server, Path(target.path) if target.path else default_socket_path(
            codex_home()))
    else:
        await asyncio.Event().wait()


if __name__ == "__main__":
    raise SystemExit(main())
