"""Forward host loopback ports into the in-box cluster's network namespace.

Why: the box's namespace has no link to the host at all (no veth, no route), so nothing in it
can reach out. The host still needs the API server and the S3 store, so this process binds its
listening sockets on the host's 127.0.0.1 first, then moves itself into the namespace
(setns): every socket it opens afterwards, i.e. each upstream connection, lives inside.

Usage: portproxy.py NETNS_PATH HOST_PORT=INNER_HOST:INNER_PORT ...   (stdlib only, run as root)
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import socket
import sys

CLONE_NEWNET = 0x40000000


def enter_netns(path: str) -> None:
    """Move this (still single-threaded) process into the namespace at path."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({path}): {os.strerror(err)}")
    finally:
        os.close(fd)


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError):
            writer.close()


def handler(host: str, port: int):  # type: ignore[no-untyped-def]
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(host, port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    return handle


async def serve(listeners: list[tuple[socket.socket, str, int]]) -> None:
    servers = [await asyncio.start_server(handler(h, p), sock=s) for s, h, p in listeners]
    await asyncio.gather(*(s.serve_forever() for s in servers))


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    listeners = []
    for spec in argv[1:]:
        local, inner = spec.split("=", 1)
        host, port = inner.rsplit(":", 1)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", int(local)))
        except OSError as exc:
            print(f"portproxy: 127.0.0.1:{local} is taken ({exc.strerror})", file=sys.stderr)
            return 1
        sock.listen(128)
        sock.setblocking(False)
        listeners.append((sock, host, int(port)))
    enter_netns(argv[0])
    print("portproxy: ready", flush=True)
    asyncio.run(serve(listeners))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
