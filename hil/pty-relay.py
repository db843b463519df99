#!/usr/bin/env python3
# Pseudo-terminal for the stand-in board (npm run standin): opens a pty pair, sets the slave side
# raw (no echo, no line editing: the Jacdac USB framing is binary), prints "PTY <slave path>" as
# its first line on stdout, then relays bytes: master -> stdout, stdin -> master, until stdin
# closes. It keeps its own slave descriptor open so that the port survives the bench closing and
# reopening it (as a board's port does). Python's standard library only: python3 is on every
# machine this project runs on, so CI needs nothing installed (node-pty would need a native build,
# socat a Debian package).
import os, pty, select, sys, tty

def write_all(fd, data):
    # A pty (or a pipe) may take fewer bytes than offered when its buffer is full: keep going.
    while data:
        n = os.write(fd, data)
        data = data[n:]


master, slave = pty.openpty()
tty.setraw(slave)
os.write(1, ("PTY " + os.ttyname(slave) + "\n").encode())
while True:
    r, _, _ = select.select([master, 0], [], [])
    if master in r:
        try:
            data = os.read(master, 4096)
        except OSError:
            data = b""
        if data:
            write_all(1, data)
    if 0 in r:
        data = os.read(0, 4096)
        if not data:
            break
        write_all(master, data)
