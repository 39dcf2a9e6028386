#!/usr/bin/env python3
"""faultd: a small HTTP server that misbehaves on purpose, for claw-fetch's tests.

Serves one file. The path chooses the fault; state (how many faults are left)
lives per path, so a client that retries sees the fault stop:
  /ok                 normal, with Range
  /drops/K/SEED       drop the connection at a random offset, K times in all
  /norange            ignore Range: always 200 and the whole file
  /dropnorange/K/SEED ignore Range, and drop the connection at a random offset, K times in all
  /dropelsewhere/DELTA
                      drop the first GET once, midway; then as /elsewhere/DELTA
  /shortlen           claim more bytes in Content-Length than it sends, then close
  /wrongsize          say the file is one byte longer than it is
  /stall/N            send N bytes, then stall (once); later requests are normal
  /corrupt            flip one byte in the middle
  /status/CODE        answer with that status
  /nohead             405 to HEAD, normal to GET
  /slowfrom/AT/BPS[/AFTER]
                      the request that starts at byte AT trickles at BPS bytes a second
                      (after its first AFTER bytes, sent at full speed)
  /slow/BPS           every request trickles at BPS bytes a second
  /toend              a 206 to every Range, from where asked to the end of the file
  /elsewhere/DELTA    the first request for each range past byte 0 is answered from
                      DELTA bytes further on (DELTA < 0: further back)
  /liesize            every 206's Content-Range says the file is 1000 bytes larger
  /416/K              the first K Range requests get a 416 (Content-Range: bytes */SIZE)
  /416size            every Range request gets a 416 that says the file is 1000 bytes shorter
  /redirect/HOST/REST 302 to http://HOST:PORT/REST (this server under another name)
  /redirectto/URL     302 to URL (percent-encoded), whatever its scheme
  /drip/N/BPS         the first GET sends N bytes, then BPS bytes a second for ever
  /hang               the first GET sends its headers, then nothing
  /nolength           no Content-Length, no Range: the whole file, then close (HEAD too)
  /endless            no Content-Length, and a body that never ends
A Range that starts past the end gets a 416 (Content-Range: bytes */SIZE), as from nginx.
Every GET's first byte and last byte asked for, and whether it carried credentials
(auth or -), go to PORTFILE.log, a line each.
Usage: faultd.py FILE PORTFILE  (binds 127.0.0.1 on a free port, writes it to PORTFILE)
"""
import os
import random
import re
import socket
import sys
import threading
import time
import urllib.parse
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


    def answer(self, status, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log(self, start, end):
        auth = "auth" if self.headers.get("Authorization") else "-"
        with LOCK, open(sys.argv[2] + ".log", "a") as log:
            log.write("%s %d %d %s\n" % (self.path, start, end, auth))

    def unsized(self, head, endless):
        """The whole file with no length: the body ends when the connection does."""
        self.send_response(200)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if head:
            return
        self.log(0, -1)
        try:
            while True:
                with open(DATA_PATH, "rb") as f:
                    while True:
                        chunk = f.read(256 * 1024)
                        if not chunk:
                            break
                        self.wfile.write(chunk)
                if not endless:
                    return
        except (BrokenPipeError, ConnectionResetError):
            return

    def serve(self, head):
        parts = self.path.strip("/").split("/")
        mode = parts[0]
        if mode == "status":
            self.answer(int(parts[1]))
            return
        if mode == "nohead" and head:
            self.answer(405)
            return
        if mode == "redirect":
            self.log(0, -1)
            port = self.server.server_address[1]
            self.answer(302, [("Location", "http://%s:%d/%s" % (parts[1], port, "/".join(parts[2:])))])
            return
        if mode == "redirectto":
            self.answer(302, [("Location", urllib.parse.unquote(parts[1]))])
            return
        if mode in ("nolength", "endless"):
            self.unsized(head, mode == "endless")
            return
        rng = None if mode in ("norange", "dropnorange") else self.range()
        if rng and rng[0] >= SIZE:
            if not head:
                self.log(rng[0], rng[1])
            self.answer(416, [("Content-Range", "bytes */%d" % SIZE)])
            return
        if rng and mode == "416size":
            self.answer(416, [("Content-Range", "bytes */%d" % (SIZE - 1000))])
            return
        if rng and mode == "416" and take(self.path, int(parts[1])):
            self.answer(416, [("Content-Range", "bytes */%d" % SIZE)])
            return
        start, end = rng if rng else (0, SIZE - 1)
        if not head:
            self.log(start, end)
        if rng and mode == "toend":
            end = SIZE - 1
        if rng and mode in ("elsewhere", "dropelsewhere") and start > 0 and take("%s %d" % (self.path, start), 1):
            length = end - start + 1
            start = min(max(start + int(parts[1]), 0), SIZE - 1)
            end = max(end, min(start + length - 1, SIZE - 1))
        total = SIZE + 1 if mode == "wrongsize" else SIZE + 1000 if mode == "liesize" else SIZE
        length = end - start + 1
        self.send_response(206 if rng else 200)
        if rng:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, total))
        if mode not in ("norange", "dropnorange"):
            self.send_header("Accept-Ranges", "bytes")
        claimed = length + 1000 if mode == "shortlen" else (length + 1 if mode == "wrongsize" and not rng else length)
        self.send_header("Content-Length", str(claimed))
        self.end_headers()
        if head:
            return
        if mode == "hang" and take(self.path, 1):
            self.wfile.flush()
            time.sleep(3600)
            return
        cut = None
        if mode in ("drops", "dropnorange") and length > 1:
            key = self.path
            rnd = random.Random("%s-%d" % (parts[2] if len(parts) > 2 else "0", start))
            if take(key, int(parts[1])):
                cut = start + rnd.randrange(1, length)
        if mode == "dropelsewhere" and start == 0 and take(self.path + " drop", 1):
            cut = length // 3
        stall_at = None
        if mode == "stall" and take(self.path, 1):
            stall_at = start + int(parts[1])
        drip_at = None
        if mode == "drip" and take(self.path, 1):
            drip_at = start + int(parts[1])
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
                if mode == "slow":
                    n = min(n, int(parts[1]) // 10)
                    time.sleep(0.1)
                if drip_at is not None:
                    if pos < drip_at:
                        n = min(n, drip_at - pos)
                    else:
                        n = min(n, max(1, int(parts[2]) // 10))
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
