"""Ports for Blender workers the gateway starts over HTTP (BL-04): 9876, 9877, ... skipping busy ones."""

from __future__ import annotations

import socket

__all__ = ["free_ports"]


def free_ports(first: int, count: int, host: str = "127.0.0.1") -> list[int]:
    """`count` ports from `first` upward that nothing is bound to."""
    ports: list[int] = []
    port = first
    while len(ports) < count and port < 65536:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
                ports.append(port)
            except OSError:
                pass
        port += 1
    return ports
