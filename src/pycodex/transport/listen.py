"""``--listen`` URL parsing with the reference's error texts."""

from __future__ import annotations

import os
from dataclasses import dataclass


class ListenUrlError(ValueError):
    pass


class ListenError(Exception):
    """A listener could not be opened (the text is printed as ``Error: <text>``)."""


@dataclass(frozen=True)
class ListenTarget:
    kind: str  # "stdio" | "unix" | "ws" | "off"
    host: str = ""
    port: int = 0
    #: unix socket path (absolute); empty for ``unix://`` (the CODEX_HOME default)
    path: str = ""


def parse_listen_url(url: str) -> ListenTarget:
    if url == "stdio://":
        return ListenTarget("stdio")
    if url == "off":
        return ListenTarget("off")
    if url.startswith("unix://"):
        raw = url[len("unix://") :]
        return ListenTarget("unix", path=os.path.abspath(raw) if raw else "")
    if url.startswith("ws://"):
        import ipaddress  # only websocket listeners need it (it is slow to import)

        rest = url[len("ws://") :]
        host, sep, port_text = rest.rpartition(":")
        try:
            if not sep or not port_text.isdigit() or int(port_text) > 65535:
                raise ValueError
            address: ipaddress.IPv4Address | ipaddress.IPv6Address
            if host.startswith("[") and host.endswith("]"):
                address = ipaddress.IPv6Address(host[1:-1])
            else:
                address = ipaddress.IPv4Address(host)
        except ValueError:
            raise ListenUrlError(
                f"invalid websocket --listen URL `{url}`; expected `ws://IP:PORT`"
            ) from None
        return ListenTarget("ws", str(address), int(port_text))
    raise ListenUrlError(
        f"unsupported --listen URL `{url}`; expected `stdio://`, `unix://`, `unix://PATH`, "
        "`ws://IP:PORT`, or `off`"
    )
