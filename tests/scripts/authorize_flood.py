#!/usr/bin/env python3
"""Authorization-request flood (issue #10, docs/decisions/0013-bounded-pending-requests.md).

Starts the release `idp` binary on a fresh data folder (in-process ephemeral store, and/or a
private Redis server started for the run), registers a public client, then sends many
concurrent GET /authorize from one address with 8 KiB values in state, nonce, login_hint,
ui_locales and acr_values (or, with --at-bounds, values at the bounds the provider accepts),
for --duration seconds. Prints the server's RSS and Redis
`used_memory` before and after, and what the answers were. A measurement, not a test: it
asserts nothing.

    cargo build --release -p idp
    python3 tests/scripts/authorize_flood.py --duration 30 --backend both

Needs only the Python standard library (and redis-server / redis-cli for --backend redis).
"""

import argparse
import asyncio
import base64
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

CLIENT_ID = "flood"
REDIRECT_URI = "http://127.0.0.1:9/callback"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def redis_used_memory(port):
    out = subprocess.run(["redis-cli", "-p", str(port), "info", "memory"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("used_memory:"):
            return int(line.split(":")[1])
    return -1


def mib(n_bytes):
    return f"{n_bytes / 1024 / 1024:.1f} MiB"


# `--at-bounds`: each value at the bound the provider accepts (decision 0013), so that the
# requests are kept and the per-address limit is what stops them.
AT_BOUNDS = {"state": 4096, "nonce": 512, "login_hint": 256, "ui_locales": 256, "acr_values": 1024}


def flood_target(port, at_bounds):
    size = {name: (AT_BOUNDS[name] if at_bounds else 8 * 1024) for name in AT_BOUNDS}
    verifier = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **{name: "x" * n for name, n in size.items()},
        }
    )
    return f"GET /authorize?{query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status, headers.get("location", "")


async def worker(port, request, deadline, counts):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.monotonic() < deadline:
            writer.write(request)
            await writer.drain()
            status, location = await read_response(reader)
            if status == 303 and location.startswith("/login"):
                kind = "kept (303 to /login)"
            elif status == 303 and "error=" in location:
                kind = "refused (303 error to the client)"
            else:
                kind = f"HTTP {status}"
            counts[kind] = counts.get(kind, 0) + 1
    except (ConnectionError, asyncio.IncompleteReadError) as e:
        counts[f"connection error {type(e).__name__}"] = counts.get(f"connection error {type(e).__name__}", 0) + 1
    finally:
        writer.close()


async def flood(port, duration, connections, at_bounds):
    request = flood_target(port, at_bounds)
    counts = {}
    deadline = time.monotonic() + duration
    await asyncio.gather(*(worker(port, request, deadline, counts) for _ in range(connections)))
    return counts


def wait_until_up(port, proc, timeout=60):
    url = f"http://127.0.0.1:{port}/.well-known/openid-configuration"
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            sys.exit(f"the server stopped with status {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit("the server did not start")


def run(binary, backend, duration, connections, at_bounds):
    data = tempfile.mkdtemp(prefix="idp-flood-")
    port = free_port()
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("IDP_"):
            del env[k]
    env.update(
        {
            "IDP_DATA_DIR": data,
            "IDP_ISSUER": f"http://127.0.0.1:{port}",
            "IDP_LISTEN": f"127.0.0.1:{port}",
            "IDP_LOG": "warn",
        }
    )
    redis = None
    redis_port = None
    try:
        if backend == "redis":
            redis_port = free_port()
            redis = subprocess.Popen(
                ["redis-server", "--port", str(redis_port), "--save", "", "--appendonly", "no",
                 "--maxmemory", "0"],
                stdout=subprocess.DEVNULL,
            )
            for _ in range(50):
                if subprocess.run(["redis-cli", "-p", str(redis_port), "ping"], capture_output=True).returncode == 0:
                    break
                time.sleep(0.1)
            env["IDP_REDIS_URL"] = f"redis://127.0.0.1:{redis_port}"
        subprocess.run(
            [binary, "client", "add", "--id", CLIENT_ID, "--public", "--redirect-uri", REDIRECT_URI],
            env=env, check=True, stdout=subprocess.DEVNULL,
        )
        server = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until_up(port, server)
            rss_before = rss_kib(server.pid)
            redis_before = redis_used_memory(redis_port) if redis else None
            started = time.monotonic()
            counts = asyncio.run(flood(port, duration, connections, at_bounds))
            elapsed = time.monotonic() - started
            rss_after = rss_kib(server.pid)
            redis_after = redis_used_memory(redis_port) if redis else None
        finally:
            server.terminate()
            server.wait()
    finally:
        if redis:
            redis.terminate()
            redis.wait()
        shutil.rmtree(data, ignore_errors=True)
    total = sum(counts.values())
    print(f"== {backend} store: {total} requests in {elapsed:.1f} s ({total / elapsed:.0f}/s), {connections} connections")
    for kind, n in sorted(counts.items()):
        print(f"   {kind}: {n}")
    print(f"   server RSS: {rss_before / 1024:.1f} MiB -> {rss_after / 1024:.1f} MiB")
    if redis:
        print(f"   Redis used_memory: {mib(redis_before)} -> {mib(redis_after)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    parser.add_argument("--binary", default=os.path.join(target, "release", "idp"))
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of flood (default 30)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--at-bounds", action="store_true", help="values at the accepted bounds, not 8 KiB")
    parser.add_argument("--backend", choices=["memory", "redis", "both"], default="both")
    args = parser.parse_args()
    backends = ["memory", "redis"] if args.backend == "both" else [args.backend]
    for backend in backends:
        run(args.binary, backend, args.duration, args.connections, args.at_bounds)


if __name__ == "__main__":
    main()
