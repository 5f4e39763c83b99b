#!/usr/bin/python3
"""Opens N idle HTTP/2 (h2c, prior knowledge) connections to HOST:PORT.

Each connection sends the client preface and an empty SETTINGS frame, waits
for the server's SETTINGS, acknowledges it, then stays idle. Once all are
open the script prints one line "ready OPENED FAILED" (flushed), holds the
connections for HOLD seconds, then prints a JSON summary and exits. The
caller samples the server's RSS between the two lines.

Usage: idle_conns.py HOST PORT N HOLD_SECONDS
"""

import asyncio
import json
import resource
import sys

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
FRAME_SETTINGS = 0x4
FLAG_ACK = 0x1
EMPTY_SETTINGS = bytes([0, 0, 0, FRAME_SETTINGS, 0, 0, 0, 0, 0])
SETTINGS_ACK = bytes([0, 0, 0, FRAME_SETTINGS, FLAG_ACK, 0, 0, 0, 0])
# Opening too many at once overflows the listen backlog; this keeps it sane.
MAX_PARALLEL_OPENS = 200
HANDSHAKE_TIMEOUT_S = 10
# A server that stops accepting (e.g. at its maxconn) must not stall the run.
OPEN_PHASE_DEADLINE_S = 60


def raise_fd_limit():
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


async def read_server_settings(reader):
    """Reads frames until a non-ACK SETTINGS frame arrives."""
    while True:
        header = await reader.readexactly(9)
        length = int.from_bytes(header[0:3], "big")
        frame_type, flags = header[3], header[4]
        if length:
            await reader.readexactly(length)
        if frame_type == FRAME_SETTINGS and not flags & FLAG_ACK:
            return


async def handshake(host, port):
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(PREFACE + EMPTY_SETTINGS)
        await writer.drain()
        await read_server_settings(reader)
        writer.write(SETTINGS_ACK)
        await writer.drain()
    except BaseException:
        writer.close()
        raise
    return reader, writer


async def open_one(host, port, gate, deadline):
    async with gate:
        loop = asyncio.get_running_loop()
        if loop.time() > deadline:
            raise TimeoutError("open phase deadline passed")
        return await asyncio.wait_for(handshake(host, port), HANDSHAKE_TIMEOUT_S)


async def still_open(reader):
    """True if the server has not closed the connection (no EOF yet)."""
    try:
        while True:
            data = await asyncio.wait_for(reader.read(65536), 0.001)
            if not data:
                return False
    except asyncio.TimeoutError:
        return True
    except OSError:
        return False


async def main(host, port, count, hold_s):
    gate = asyncio.Semaphore(MAX_PARALLEL_OPENS)
    deadline = asyncio.get_running_loop().time() + OPEN_PHASE_DEADLINE_S
    results = await asyncio.gather(
        *(open_one(host, port, gate, deadline) for _ in range(count)), return_exceptions=True
    )
    conns = [r for r in results if not isinstance(r, BaseException)]
    errors = sorted({type(r).__name__ for r in results if isinstance(r, BaseException)})
    print(f"ready {len(conns)} {count - len(conns)}", flush=True)
    await asyncio.sleep(hold_s)
    alive = sum(await asyncio.gather(*(still_open(r) for r, _ in conns)))
    for _, writer in conns:
        writer.close()
    print(
        json.dumps(
            {"requested": count, "opened": len(conns), "alive_after_hold": alive, "errors": errors}
        ),
        flush=True,
    )


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    raise_fd_limit()
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])))
