#!/usr/bin/env python3
"""ipc_raw.py: talk to the smcroute IPC socket byte by byte (system tests).

Builds well-formed and malformed frames so the tests can check that no
client input harms the daemon. Frame (big-endian): magic u32 0x534d4352,
body length u32, type u16 (1 request, 2 row, 3 end), version u16 = 1.
Request body: flags u32, argc u16, argc x (len u16, bytes).
END body: status u32, then the message.

Usage:
  ipc_raw.py exchange SOCK PIECE...   send the pieces, print the reply:
                                      "ROW text", "END status message",
                                      then "EOF", "RESET" or "TIMEOUT"
  ipc_raw.py hold SOCK READY SECS PIECE...
                                      connect, send the pieces, create the
                                      file READY, then keep the connection
                                      open SECS seconds (or until killed)
  ipc_raw.py hangup SOCK PIECE...     send the pieces and close at once,
                                      without reading the reply
  ipc_raw.py many SOCK N READY SECS   open N connections at once, create
                                      READY, hold them SECS seconds; prints
                                      how many connected
  ipc_raw.py impostor SOCK READY N STATUS MESSAGE [ROW...]
                                      play a daemon: listen on SOCK, create
                                      READY, then answer the first request
                                      of each of N connections with the ROWs
                                      and END STATUS MESSAGE (arguments as
                                      raw bytes: control bytes pass through)
  ipc_raw.py serve                    run the lines of stdin one by one, each
                                      "[OPTIONS] exchange|hangup SOCK PIECE..."
                                      (words split at blanks): the report of
                                      each, then "= OK" or "= FAIL why"
                                      (one program start for many exchanges)
Pieces (concatenated, sent in one write):
  req:VERB[,ARG...]          a valid request frame
  hdr:MAGIC:LEN:TYPE:VER     a bare header (numbers, 0x.. allowed)
  hex:HEX                    raw bytes
  garbage:N                  N deterministic pseudo-random bytes
  half:VERB[,ARG...]         the first half (rounded down) of a request frame
Options (before the subcommand): --timeout SECS (exchange; default 5),
  --ends N (exchange: stop after N END frames and print "DONE" instead of
  waiting for the daemon to close the connection).
"""

import os
import random
import socket
import struct
import sys
import time

MAGIC = 0x534D4352
VERSION = 1
T_REQUEST, T_ROW, T_END = 1, 2, 3


def header(magic, length, ftype, version):
    return struct.pack(">IIHH", magic & 0xFFFFFFFF, length & 0xFFFFFFFF, ftype & 0xFFFF, version & 0xFFFF)


def request(args, flags=0):
    body = struct.pack(">IH", flags, len(args))
    for a in args:
        b = a.encode()
        body += struct.pack(">H", len(b)) + b
    return header(MAGIC, len(body), T_REQUEST, VERSION) + body


def piece(spec):
    kind, _, rest = spec.partition(":")
    if kind == "req":
        return request(rest.split(","))
    if kind == "half":
        frame = request(rest.split(","))
        return frame[: len(frame) // 2]
    if kind == "hdr":
        m, length, t, v = (int(x, 0) for x in rest.split(":"))
        return header(m, length, t, v)
    if kind == "hex":
        return bytes.fromhex(rest)
    if kind == "garbage":
        rnd = random.Random(20240601)
        data = bytes(rnd.randrange(256) for _ in range(int(rest)))
        # Never start with the magic by accident.
        return b"\xde\xad" + data[2:] if data[:4] == struct.pack(">I", MAGIC) else data
    raise SystemExit(f"ipc_raw: unknown piece '{spec}'")


def payload(specs):
    return b"".join(piece(s) for s in specs)


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
    except OSError as e:
        raise SystemExit(f"ipc_raw: cannot connect to {path}: {e.strerror}")
    return s


def exchange(path, specs, timeout, ends):
    s = connect(path)
    data = payload(specs)
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError) as e:
        # The daemon may close before taking everything; what it sent before
        # closing is still readable.
        print(f"SENDFAIL {e.__class__.__name__}")
    deadline = time.monotonic() + timeout
    buf = b""
    ends_seen = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            print("TIMEOUT")
            return
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            print("TIMEOUT")
            return
        except ConnectionResetError:
            print("RESET")
            return
        if not chunk:
            if buf:
                print(f"JUNK {len(buf)} trailing bytes")
            print("EOF")
            return
        buf += chunk
        while len(buf) >= 12:
            magic, length, ftype, version = struct.unpack(">IIHH", buf[:12])
            if magic != MAGIC or version != VERSION or length > 65536:
                print(f"JUNK bad reply header {buf[:12].hex()}")
                return
            if len(buf) < 12 + length:
                break
            body, buf = buf[12 : 12 + length], buf[12 + length :]
            if ftype == T_ROW:
                print("ROW " + body.decode(errors="replace"))
            elif ftype == T_END and len(body) >= 4:
                (status,) = struct.unpack(">I", body[:4])
                print(f"END {status} " + body[4:].decode(errors="replace"))
                ends_seen += 1
                if ends and ends_seen >= ends:
                    print("DONE")
                    return
            else:
                print(f"JUNK frame type {ftype} length {length}")
        sys.stdout.flush()


def hold(path, ready, secs, specs):
    s = connect(path)
    data = payload(specs)
    if data:
        s.sendall(data)
    open(ready, "w").close()
    time.sleep(secs)
    s.close()


def hangup(path, specs):
    s = connect(path)
    s.sendall(payload(specs))
    s.close()


def many(path, n, ready, secs):
    # Blocking connects: past the listen backlog, connect() waits until the
    # daemon accepts (the caller bounds the total time).
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
        except OSError as e:
            print(f"connect failed after {len(socks)}: {e}")
            s.close()
            break
        socks.append(s)
    print(f"connected {len(socks)}")
    sys.stdout.flush()
    open(ready, "w").close()
    time.sleep(secs)
    for s in socks:
        s.close()


def frame(ftype, body):
    return header(MAGIC, len(body), ftype, VERSION) + body


def impostor(path, ready, n, status, message, rows):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(8)
    open(ready, "w").close()
    for _ in range(n):
        s, _ = listener.accept()
        s.settimeout(10)
        buf = b""
        while len(buf) < 12 or len(buf) < 12 + struct.unpack(">IIHH", buf[:12])[1]:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        out = b"".join(frame(T_ROW, os.fsencode(r)) for r in rows)
        out += frame(T_END, struct.pack(">I", status) + os.fsencode(message))
        s.sendall(out)
        s.close()


def serve():
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        try:
            main(words)
            print("= OK")
        except SystemExit as e:
            print(f"= FAIL {e.code}")
        except OSError as e:
            print(f"= FAIL {e.__class__.__name__}: {e}")
        sys.stdout.flush()


def main(argv):
    if argv == ["serve"]:
        serve()
        return
    timeout, ends = 5.0, 0
    while len(argv) >= 2 and argv[0] in ("--timeout", "--ends"):
        if argv[0] == "--timeout":
            timeout = float(argv[1])
        else:
            ends = int(argv[1])
        argv = argv[2:]
    if len(argv) < 2:
        raise SystemExit(__doc__)
    cmd, path, rest = argv[0], argv[1], argv[2:]
    if cmd == "exchange":
        exchange(path, rest, timeout, ends)
    elif cmd == "hold" and len(rest) >= 2:
        hold(path, rest[0], float(rest[1]), rest[2:])
    elif cmd == "hangup":
        hangup(path, rest)
    elif cmd == "many" and len(rest) == 3:
        many(path, int(rest[0]), rest[1], float(rest[2]))
    elif cmd == "impostor" and len(rest) >= 4:
        impostor(path, rest[0], int(rest[1]), int(rest[2]), rest[3], rest[4:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
