#!/usr/bin/env python3
"""Measurement, not a test (issue #10): opens N slowloris sockets against a running idp, each
dribbling one header byte every few seconds, and prints how many the server closed and when,
and whether a normal request is still served meanwhile.

    cargo build --release -p idp
    IDP_DATA_DIR=$(mktemp -d) IDP_LISTEN=127.0.0.1:18080 IDP_ISSUER=http://127.0.0.1:18080 \
        target/release/idp serve &
    python3 tests/scripts/slowloris.py --port 18080 --sockets 200 --seconds 30
"""
import argparse
import http.client
import selectors
import socket
import time


def normal_request(port):
    start = time.monotonic()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/healthz")
        status = conn.getresponse().status
        conn.close()
        return status, time.monotonic() - start
    except OSError as err:
        return f"failed: {err}", time.monotonic() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=18080)
    ap.add_argument("--sockets", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--every", type=float, default=2.0, help="seconds between two dribbled bytes")
    args = ap.parse_args()

    sel = selectors.DefaultSelector()
    opened = time.monotonic()
    socks = {}
    for i in range(args.sockets):
        s = socket.create_connection(("127.0.0.1", args.port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: idp\r\n")
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, i)
        socks[i] = s
    closed_at = {}
    answered = 0
    next_drip = time.monotonic() + args.every
    next_probe = time.monotonic() + 1.0
    probes = []
    while time.monotonic() - opened < args.seconds and len(closed_at) < args.sockets:
        for key, _ in sel.select(timeout=0.1):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if data.startswith(b"HTTP/"):
                answered += 1
            sel.unregister(s)
            s.close()
            closed_at[key.data] = time.monotonic() - opened
            del socks[key.data]
        now = time.monotonic()
        if now >= next_drip:
            for i, s in list(socks.items()):
                try:
                    s.send(b"X")
                except OSError:
                    pass
            next_drip = now + args.every
        if now >= next_probe and len(probes) < 5:
            probes.append((round(now - opened, 1), *normal_request(args.port)))
            next_probe = now + 2.0
    times = sorted(closed_at.values())
    print(f"slowloris sockets: {args.sockets}, closed by the server: {len(times)}, "
          f"answered before closing: {answered}, still open after {args.seconds:.0f} s: {len(socks)}")
    if times:
        print(f"closed between {times[0]:.2f} s and {times[-1]:.2f} s after opening "
              f"(median {times[len(times) // 2]:.2f} s)")
    for at, status, took in probes:
        print(f"normal GET /healthz at t={at} s: {status} in {took * 1000:.1f} ms")
    for s in socks.values():
        s.close()


if __name__ == "__main__":
    main()
