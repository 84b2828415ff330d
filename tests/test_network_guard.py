"""The guard in conftest must stop any accidental call to a non-loopback address."""

from __future__ import annotations

import socket

import pytest


def test_non_loopback_connect_is_blocked() -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(AssertionError, match="non-loopback"):
            s.connect(("93.184.216.34", 443))
    finally:
        s.close()


def test_non_loopback_resolution_is_blocked() -> None:
    with pytest.raises(AssertionError, match="non-loopback"):
        socket.getaddrinfo("api.openai.com", 443)


def test_loopback_is_allowed() -> None:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    cli = socket.socket()
    try:
        cli.connect(srv.getsockname())
    finally:
        cli.close()
        srv.close()
