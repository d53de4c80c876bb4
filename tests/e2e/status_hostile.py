#!/usr/bin/env python3
"""Hostile clients of tund's control socket and metrics endpoint (issue 14), for
tests/e2e/test_status_hostile.sh. Each prints one line saying what happened and exits 0
when the daemon held its bounds, 1 when it did not.

  status_hostile.py huge SOCK               1 MB request: refused, connection closed
  status_hostile.py slowloris SOCK SECONDS  a byte every 0.2 s, no blank line: closed
                                            before SECONDS
  status_hostile.py many SOCK N HOLD        N connections at once, held HOLD s, idle
  status_hostile.py garbage SOCK            binary garbage and a blank line: an error reply
  status_hostile.py halfclose SOCK          a request without its blank line, then
                                            shutdown(SHUT_WR): a reply, not a hang
  status_hostile.py http-slow HOST PORT SECONDS   headers trickled: closed before SECONDS
  status_hostile.py http-many HOST PORT N HOLD    N TCP connections held HOLD s
  status_hostile.py http-huge HOST PORT           a 1 MB header: refused (4xx or closed)
  status_hostile.py http-status HOST PORT METHOD PATH   prints the status code only
"""
import os
import socket
import sys
import time


def unix(path, timeout=10.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def tcp(host, port, timeout=10.0):
    return socket.create_connection((host, int(port)), timeout=timeout)


def read_all(s, limit=1 << 22):
    data = b""
    try:
        while len(data) < limit:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, BrokenPipeError):
        pass
    return data


def first_line(data):
    return data.split(b"\n", 1)[0].decode("utf-8", "replace").strip()


def send_much(s, data):
    """Sends until done or the peer closes; returns the bytes it took."""
    sent = 0
    try:
        while sent < len(data):
            sent += s.send(data[sent:sent + 65536])
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        pass
    return sent


def huge(path):
    s = unix(path)
    sent = send_much(s, b"command = show\n" + b"x = " + b"y" * (1 << 20) + b"\n\n")
    reply = read_all(s)
    print(f"huge: daemon took {sent} of {(1 << 20) + 21} bytes, then replied "
          f"{first_line(reply)!r} ({len(reply)} bytes) and closed")
    # The bound is the point: it must not have taken the whole megabyte as one request.
    return 0 if b"status = ok" not in reply else 1


def trickle(s, first, seconds, byte):
    """Seconds until the peer closed (0.0: at once, refused), None: still open."""
    start = time.monotonic()
    try:
        s.sendall(first)
    except (BrokenPipeError, ConnectionResetError):
        return max(time.monotonic() - start, 1e-6)
    while time.monotonic() - start < seconds:
        try:
            s.send(byte)
            s.settimeout(0.2)
            if s.recv(65536) == b"":
                return max(time.monotonic() - start, 1e-6)
        except socket.timeout:
            continue
        except (BrokenPipeError, ConnectionResetError):
            return max(time.monotonic() - start, 1e-6)
    return None


def slowloris(path, seconds):
    took = trickle(unix(path), b"command = show\nx = ", float(seconds), b"a")
    print(f"slowloris: closed after {took:.1f} s" if took else f"slowloris: still open after {seconds} s")
    return 0 if took else 1


def many_connections(connect, n, hold, budget=5.0):
    """Opens up to n connections (for at most `budget` seconds: a server whose backlog is
    full lets connect() wait), holds them idle `hold` seconds, reports."""
    conns, failed, start = [], 0, time.monotonic()
    for _ in range(int(n)):
        if time.monotonic() - start > budget:
            break
        try:
            conns.append(connect())
        except OSError:
            failed += 1
    time.sleep(float(hold))
    closed = 0
    for c in conns:
        c.setblocking(False)
        try:
            closed += c.recv(1) == b""
        except (BlockingIOError, OSError):
            pass
        c.close()
    print(f"many: {len(conns)} connected, {failed} refused or timed out at connect, "
          f"{closed} closed by the daemon within {hold} s")
    return 0


def many(path, n, hold):
    def connect():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)  # a full backlog is EAGAIN, not a hang
        try:
            s.connect(path)
        except OSError:
            s.close()
            raise
        return s
    return many_connections(connect, n, hold)


def garbage(path):
    s = unix(path)
    s.sendall(os.urandom(2000).replace(b"\n", b"") + b"\n\x00\xff = \x01\n\n")
    reply = read_all(s)
    print(f"garbage: reply {first_line(reply)!r}, {len(reply)} bytes")
    text = reply.decode("utf-8", "replace")
    ok = text.startswith("protocol = 1\n") and "status = error" in text
    return 0 if ok or not reply else 1


def halfclose(path):
    s = unix(path, timeout=4.0)
    s.sendall(b"command = show\n")
    s.shutdown(socket.SHUT_WR)
    try:
        reply = read_all(s)
    except socket.timeout:
        print("halfclose: no reply within 4 s")
        return 1
    print(f"halfclose: reply {first_line(reply)!r}, {len(reply)} bytes")
    return 0 if reply.startswith(b"protocol = 1\n") else 1


def http_slow(host, port, seconds):
    took = trickle(tcp(host, port), b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ", float(seconds), b"a")
    print(f"http-slow: closed after {took:.1f} s" if took else f"http-slow: still open after {seconds} s")
    return 0 if took else 1


def http_many(host, port, n, hold):
    return many_connections(lambda: tcp(host, port, timeout=0.2), n, hold)


def http_huge(host, port):
    s = tcp(host, port)
    send_much(s, b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
    reply = read_all(s)
    line = first_line(reply)
    print(f"http-huge: reply {line!r}")
    return 0 if not reply or line.split(" ")[1:2] != ["200"] else 1


def http_status(host, port, method, path):
    s = tcp(host, port)
    s.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
    line = first_line(read_all(s))
    print(line.split(" ")[1] if " " in line else f"(no status: {line!r})")
    return 0


COMMANDS = {"huge": huge, "slowloris": slowloris, "many": many, "garbage": garbage,
            "halfclose": halfclose, "http-slow": http_slow, "http-many": http_many,
            "http-huge": http_huge, "http-status": http_status}

if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in COMMANDS:
        print(__doc__)
        sys.exit(2)
    try:
        sys.exit(COMMANDS[sys.argv[1]](*sys.argv[2:]))
    except OSError as e:
        print(f"{sys.argv[1]}: {type(e).__name__}: {e}")
        sys.exit(1)
