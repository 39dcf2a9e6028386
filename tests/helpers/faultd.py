#!/usr/bin/env python3
"""faultd: a small HTTP server that misbehaves on purpose, for claw-fetch's tests.

Serves one file. The path chooses the fault; state (how many faults are left)
lives per path, so a client that retries sees the fault stop:
  /ok                 normal, with Range
  /drops/K/SEED       drop the connection at a random offset, K times in all
  /norange            ignore Range: always 200 and the whole file
  /shortlen           claim more bytes in Content-Length than it sends, then close
  /wrongsize          say the file is one byte longer than it is
  /stall/N            send N bytes, then stall (once); later requests are normal
  /corrupt            flip one byte in the middle
  /status/CODE        answer with that status
  /nohead             405 to HEAD, normal to GET
  /slowfrom/AT/BPS[/AFTER]
                      the request that starts at byte AT trickles at BPS bytes a second
                      (after its first AFTER bytes, sent at full speed)
Every GET's first byte and last byte asked for go to PORTFILE.log, a line each.
Usage: faultd.py FILE PORTFILE  (binds 127.0.0.1 on a free port, writes it to PORTFILE)
"""
import os
import random
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DATA_PATH = sys.argv[1]
SIZE = os.path.getsize(DATA_PATH)
LOCK = threading.Lock()
STATE = {}


def take(key, initial):
    """Decrement the per-path fault budget; True while faults remain."""
    with LOCK:
        left = STATE.setdefault(key, initial)
        if left <= 0:
            return False
        STATE[key] = left - 1
        return True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.serve(head=True)

    def do_GET(self):
        self.serve(head=False)

    def range(self):
        m = re.match(r"bytes=(\d+)-(\d*)$", self.headers.get("Range", ""))
        if not m:
            return None
        start = int(m.group(1))
        end = int(m.group(2)) if m.group(2) else SIZE - 1
        return start, min(end, SIZE - 1)

    def serve(self, head):
        parts = self.path.strip("/").split("/")
        mode = parts[0]
        if mode == "status":
            self.send_response(int(parts[1]))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if mode == "nohead" and head:
            self.send_response(405)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        rng = None if mode == "norange" else self.range()
        start, end = rng if rng else (0, SIZE - 1)
        if not head:
            with LOCK, open(sys.argv[2] + ".log", "a") as log:
                log.write("%s %d %d\n" % (self.path, start, end))
        total = SIZE + 1 if mode == "wrongsize" else SIZE
        length = end - start + 1
        self.send_response(206 if rng else 200)
        if rng:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, total))
        if mode != "norange":
            self.send_header("Accept-Ranges", "bytes")
        claimed = length + 1000 if mode == "shortlen" else (length + 1 if mode == "wrongsize" and not rng else length)
        self.send_header("Content-Length", str(claimed))
        self.end_headers()
        if head:
            return
        cut = None
        if mode == "drops" and length > 1:
            key = self.path
            rnd = random.Random("%s-%d" % (parts[2] if len(parts) > 2 else "0", start))
            if take(key, int(parts[1])):
                cut = start + rnd.randrange(1, length)
        stall_at = None
        if mode == "stall" and take(self.path, 1):
            stall_at = start + int(parts[1])
        with open(DATA_PATH, "rb") as f:
            f.seek(start)
            pos = start
            while pos <= end:
                n = min(256 * 1024, end - pos + 1)
                if mode == "slowfrom" and start == int(parts[1]):
                    after = start + (int(parts[3]) if len(parts) > 3 else 0)
                    if pos < after:
                        n = min(n, after - pos)
                    else:
                        n = min(n, int(parts[2]) // 10)
                        time.sleep(0.1)
                if cut is not None:
                    n = min(n, cut - pos)
                if stall_at is not None:
                    n = min(n, stall_at - pos) if stall_at > pos else 0
                    if n == 0:
                        time.sleep(3600)
                        return
                chunk = bytearray(f.read(n))
                if mode == "corrupt" and pos <= SIZE // 2 < pos + len(chunk):
                    chunk[SIZE // 2 - pos] ^= 0xFF
                try:
                    self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    return
                pos += len(chunk)
                if cut is not None and pos >= cut:
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
        if mode == "shortlen":
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    with open(sys.argv[2] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(sys.argv[2] + ".tmp", sys.argv[2])
    srv.serve_forever()


if __name__ == "__main__":
    main()
