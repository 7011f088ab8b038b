#!/usr/bin/env python3
# test/slow_clients.py PORT N SOURCE HOLD MODE: opens N connections to
# 127.0.0.1:PORT from the loopback address SOURCE and keeps them for HOLD
# seconds, as a hostile client would (used by test/gateway_limits.sh):
#   slow  sends half a request header, then one more byte a second
#   idle  sends one keep-alive request, reads its answer, then stays idle
# Prints "open=K" (how many the gateway still kept at the end) on stdout.
import socket
import sys
import time

port, n, src, hold, mode = (int(sys.argv[1]), int(sys.argv[2]), sys.argv[3],
                            float(sys.argv[4]), sys.argv[5])
socks = []
for _ in range(n):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
        if mode == "slow":
            s.sendall(b"GET /api/health HTTP/1.1\r\nHo")
        else:
            s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
        socks.append(s)
    except OSError:
        s.close()
if mode == "idle":
    for s in socks:
        try:
            s.recv(4096)
        except OSError:
            pass


def still_open(s):
    s.setblocking(False)
    try:
        return s.recv(4096) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        s.setblocking(True)


end = time.monotonic() + hold
while time.monotonic() < end:
    time.sleep(1)
    if mode == "slow":
        for s in socks:
            try:
                s.send(b"s")
            except OSError:
                pass
print("open=%d" % sum(1 for s in socks if still_open(s)), flush=True)
