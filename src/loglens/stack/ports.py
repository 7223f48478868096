"""The stack's ports on 127.0.0.1: whether one is free, and any free one."""

from __future__ import annotations

import socket

#: Where every program of the stack listens.
HOST = "127.0.0.1"


def port_free(port: int) -> bool:
    """True when nothing listens on ``port`` now."""
    with socket.socket() as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def any_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port
