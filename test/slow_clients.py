#!/usr/bin/env python3
# test/slow_clients.py PORT N SOURCES HOLD MODE: opens N connections to
# 127.0.0.1:PORT from the loopback addresses SOURCES (comma-separated, used
# in turn) and keeps them for HOLD seconds, as a hostile client would (used
# by test/gateway_limits.sh):
#   slow    sends half a request header, then one more byte a second
#   idle    sends one keep-alive request, reads its answer, then stays idle
#   csv:ID  asks for report ID (GET /api/get_report) with a 4 KiB receive
#           buffer and never reads the answer
# Prints "connected=C" once all are made (on stdout, flushed) and
# "open=K" (how many the gateway still kept at the end).
import socket
import sys
import time

port, n, srcs, hold, mode = (int(sys.argv[1]), int(sys.argv[2]),
                             sys.argv[3].split(","), float(sys.argv[4]),
                             sys.argv[5])
socks = []
for i in range(n):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.bind((srcs[i % len(srcs)], 0))
        if mode.startswith("csv:"):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", port))
        if mode == "slow":
            s.sendall(b"GET /api/health HTTP/1.1\r\nHo")
        elif mode.startswith("csv:"):
            s.sendall(b"GET /api/get_report?report_id=%s HTTP/1.1\r\n"
                      b"Host: x\r\n\r\n" % mode[4:].encode())
        else:
            s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
        socks.append(s)
    except OSError:
        s.close()
print("connected=%d" % len(socks), flush=True)
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
