#!/usr/bin/env python3
"""Measurement, not a test (issue #10): the time to the answer of GET /authorize, POST /token and
GET /readyz while a dependency is down. Run the idp with Redis (IDP_REDIS_URL) or PostgreSQL
(IDP_DATABASE_URL) behind `--proxy`, a TCP proxy started by this script, which it then cuts.

    python3 tests/scripts/outage_latency.py --proxy 16380:127.0.0.1:6379 --port 18080 \
        --client-id demo --secret ... --start-cmd "IDP_REDIS_URL=redis://127.0.0.1:16380 ... idp serve"
"""
import argparse
import base64
import http.client
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.parse

cut = threading.Event()
live = []


def pipe(a, b):
    try:
        while not cut.is_set():
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.close()
        except OSError:
            pass


def proxy(listen_port, up_host, up_port):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(128)
    while True:
        c, _ = srv.accept()
        if cut.is_set():
            c.close()
            continue
        u = socket.create_connection((up_host, up_port))
        live.extend([c, u])
        threading.Thread(target=pipe, args=(c, u), daemon=True).start()
        threading.Thread(target=pipe, args=(u, c), daemon=True).start()


def timed(port, method, path, body=None, headers=None):
    start = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    r.read()
    took = time.monotonic() - start
    conn.close()
    return r.status, r.getheader("Retry-After"), took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proxy", required=True, help="LISTEN_PORT:UPSTREAM_HOST:UPSTREAM_PORT")
    ap.add_argument("--port", type=int, default=18080)
    ap.add_argument("--client-id", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--redirect-uri", default="http://127.0.0.1:9/cb")
    ap.add_argument("--start-cmd", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    lp, uh, up = args.proxy.split(":")
    threading.Thread(target=proxy, args=(int(lp), uh, int(up)), daemon=True).start()
    server = subprocess.Popen(args.start_cmd, shell=True, preexec_fn=os.setsid,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                if timed(args.port, "GET", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        q = urllib.parse.urlencode({"response_type": "code", "client_id": args.client_id,
                                    "redirect_uri": args.redirect_uri, "scope": "openid",
                                    "state": "s", "nonce": "n", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                                    "code_challenge_method": "S256"})
        auth = base64.b64encode(f"{args.client_id}:{args.secret}".encode()).decode()
        token_body = urllib.parse.urlencode({"grant_type": "authorization_code", "code": "x",
                                             "redirect_uri": args.redirect_uri})
        token_headers = {"Authorization": f"Basic {auth}", "Content-Type": "application/x-www-form-urlencoded"}
        print("up:", timed(args.port, "GET", f"/authorize?{q}"))
        cut.set()
        for s in live:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for i in range(args.rounds):
            for name, call in [("GET /authorize", lambda: timed(args.port, "GET", f"/authorize?{q}")),
                               ("POST /token", lambda: timed(args.port, "POST", "/token", token_body, token_headers)),
                               ("GET /readyz", lambda: timed(args.port, "GET", "/readyz"))]:
                status, retry, took = call()
                print(f"down, round {i}: {name}: {status} Retry-After={retry} in {took * 1000:.0f} ms")
        cut.clear()
        start = time.monotonic()
        while timed(args.port, "GET", "/readyz")[0] != 200:
            time.sleep(0.1)
        print(f"back: ready again {time.monotonic() - start:.2f} s after the dependency returned")
        print("back:", timed(args.port, "GET", f"/authorize?{q}"))
    finally:
        os.killpg(server.pid, signal.SIGTERM)


if __name__ == "__main__":
    main()
