#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Send one HMP command to a QEMU monitor socket and print its answer.

    qemu-monitor.py SOCKET COMMAND_FILE

vm.sh relays the guest's requests (lab/guest: the results directory's
monitor.req) through this, for lifecycle_test's AER injection.
"""
import socket
import sys


def read_prompt(sock):
    data = b""
    while not data.endswith(b"(qemu) "):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace")


def main():
    with open(sys.argv[2], encoding="utf-8") as f:
        cmd = f.read().strip()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(30)
    sock.connect(sys.argv[1])
    read_prompt(sock)
    sock.sendall(cmd.encode() + b"\n")
    out = read_prompt(sock)
    sock.close()
    # The monitor echoes the command; keep what follows it.
    lines = [l for l in out.replace("\r", "").split("\n")
             if l and not l.startswith("(qemu)") and cmd not in l]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
