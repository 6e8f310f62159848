"""Ports for servers the tests start themselves."""

from __future__ import annotations

import random
import socket


def free_port(low: int = 30000, high: int = 32700) -> int:
    """A port in ``low``-``high`` that nothing listens on right now.

    The default range lies below Linux's ephemeral ports (32768 and up), so
    an outgoing connection cannot take the port between this probe and the
    server's bind, and above the test stacks' fixed ports (see conftest).
    """
    for _ in range(200):
        port = random.randint(low, high)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    msg = f"no free port in {low}-{high}"
    raise RuntimeError(msg)
