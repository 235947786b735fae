"""Is a TCP port free? Checked for every port before anything starts."""

from __future__ import annotations

import contextlib
import errno
import socket


def port_in_use(host: str, port: int) -> bool:
    """True when something listens on host:port or the port cannot be bound there.

    Binds with SO_REUSEADDR like the servers themselves do, so a port in TIME_WAIT after the
    previous run is not reported as taken; also tries to connect, because on some systems
    (macOS) a bind can succeed next to a listener on the wildcard address.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        with contextlib.suppress(OSError):
            if probe.connect_ex((host, port)) == 0:
                return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.errno in (errno.EADDRINUSE, errno.EACCES)
    return False


def taken_ports(host: str, ports: list[tuple[int, str]]) -> list[tuple[int, str]]:
    return [(port, service) for port, service in ports if port_in_use(host, port)]


def port_is_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """Something accepts connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
