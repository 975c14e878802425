"""CPU per GET of one job, without the trigger: httpx.AsyncClient alone, and a bare asyncio HTTP/1.1 GET.

``python bench/_http_floor.py URL [REQUESTS]`` sends sequential GETs on one kept-alive connection
and prints the CPU milliseconds per request of each. It tells how much of a poll's CPU is the HTTP
client's by construction, when the waiting benchmark misses its CPU target.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import time
from urllib.parse import urlsplit


async def with_httpx(url: str, auth: tuple[str, str], n: int) -> float:
    import httpx

    async with httpx.AsyncClient(auth=auth) as client:
        for _ in range(20):
            (await client.get(url)).json()
        cpu = time.process_time()
        for _ in range(n):
            (await client.get(url)).json()
        return 1000 * (time.process_time() - cpu) / n


async def bare(url: str, auth: tuple[str, str], n: int) -> float:
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    token = base64.b64encode(":".join(auth).encode()).decode()
    request = (f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Basic {token}\r\n"
               "Accept: application/json\r\n\r\n").encode()

    async def get() -> None:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
        json.loads(await reader.readexactly(length))

    for _ in range(20):
        await get()
    cpu = time.process_time()
    for _ in range(n):
        await get()
    writer.close()
    return 1000 * (time.process_time() - cpu) / n


if __name__ == "__main__":
    url, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 500
    conn = json.loads(os.environ["AIRFLOW_CONN_ORDS_DEFAULT"])
    auth = (conn["login"], conn["password"])
    print(json.dumps({"requests": n, "httpx_async_client_ms": asyncio.run(with_httpx(url, auth, n)),
                      "bare_asyncio_ms": asyncio.run(bare(url, auth, n))}))
