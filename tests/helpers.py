"""Small helpers shared by the test modules."""

import socket


def free_ports(n):
    """n TCP ports free on localhost right now (for local TensorFlow workers)."""
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports
