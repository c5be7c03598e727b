"""Serve an ASGI app on a loopback port: in a background thread (demo, tests) or in the
foreground (``fitvault simulate``)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import uvicorn

HOST = "127.0.0.1"


def _config(app: Any, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=HOST,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
    )


def bind(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1 (any free port when 0), so the real port is known before
    serving starts; ``OSError`` (e.g. the port is in use) surfaces here, not inside uvicorn."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    return f"http://{HOST}:{sock.getsockname()[1]}"


@contextlib.contextmanager
def serve_in_thread(app: Any, port: int = 0) -> Iterator[str]:
    """Run ``app`` on 127.0.0.1 (a free port when 0) until the block exits; yields its URL."""
    sock = bind(port)
    server = uvicorn.Server(_config(app, port))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the simulator failed to start")
            thread.join(0.01)
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def serve_forever(app: Any, sock: socket.socket) -> None:
    """Run ``app`` in the foreground on a socket from :func:`bind` until interrupted."""
    try:
        uvicorn.Server(_config(app, sock.getsockname()[1])).run(sockets=[sock])
    finally:
        sock.close()
