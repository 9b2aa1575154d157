#!/usr/bin/env python3
"""Say where a hung qemu guest is, through its human monitor (HMP) socket.

Usage: vm-hung.py SOCKET

Samples every vCPU's instruction pointer a few times, with whether it runs
with interrupts off (a CPU stuck at one address with interrupts off is what
keeps IPIs and the console from moving), then presses sysrq-l (NMI
backtraces of all CPUs, symbolized by the guest's kernel) and sysrq-w
(blocked tasks); their output lands on the guest's console when a CPU can
still take the keyboard interrupt. (Debian's System.map is a stub, so the
samples are raw addresses; the backtraces have the names.)
"""
import re
import socket
import sys
import time

PROMPT = b"(qemu) "


def hmp(sock, command):
    """Send one HMP command; return its output lines, without echo or prompt."""
    sock.sendall(command.encode() + b"\n")
    data = b""
    while not data.endswith(PROMPT):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", data.decode(errors="replace"))
    lines = [l for l in text.replace("\r", "").split("\n") if l.strip()]
    return [l for l in lines if not l.startswith("(qemu)") and l.strip() != command]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(20)
    sock.connect(sys.argv[1])
    data = b""
    while not data.endswith(PROMPT):
        data += sock.recv(65536)
    for sample in range(5):
        cpu = None
        for line in hmp(sock, "info registers -a"):
            m = re.match(r"\s*CPU#(\d+)", line)
            if m:
                cpu = m.group(1)
            m = re.search(r"RIP=([0-9a-f]+) RFL=([0-9a-f]+)", line)
            if m and cpu is not None:
                rfl = int(m.group(2), 16)
                print("vm-hung: sample %d cpu %s rip %s%s" % (
                    sample, cpu, m.group(1),
                    "" if rfl & 0x200 else " [interrupts off]"))
        time.sleep(0.5)
    for key in ("alt-sysrq-l", "alt-sysrq-w"):
        hmp(sock, "sendkey " + key)
        time.sleep(3)


if __name__ == "__main__":
    main()
