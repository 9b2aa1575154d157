# SPDX-License-Identifier: MIT
"""Across languages, by type name: a Python publisher and the C example
subscriber, the C++ example server and a Python client, a 64 MiB NumPy
array from Python read and checked in place by C++. The programs come from
$FLOE_BUILD (default: the source tree's build/)."""
import ctypes
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import floe

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("FLOE_BUILD",
                       os.path.join(HERE, "..", "..", "..", "build"))
EXAMPLES = os.path.join(HERE, "..", "..", "..", "examples", "python")
sys.path.insert(0, EXAMPLES)
from transmission_data import (RR_SERVICE_NAME, SERVICE_NAME,  # noqa: E402
                               STREAM_REQUEST, TRANSMISSION_DATA,
                               StreamRequest, TransmissionData)


def program(*path):
    p = os.path.join(BUILD, *path)
    if not os.access(p, os.X_OK):
        pytest.fail(f"{p} is not built (make check-bindings builds it)")
    return p


class Peer:
    """A program of another language, started and waited for "ready"."""

    def __init__(self, *argv):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            if "ready" in line:
                return
        self.proc.kill()
        pytest.fail(f"{argv[0]} did not get ready: {self.lines}")

    def finish(self, timeout=90):
        out, _ = self.proc.communicate(timeout=timeout)
        self.lines += out.splitlines(keepends=True)
        return self.proc.returncode, "".join(self.lines)

    def kill(self):
        """Kill it if it still runs; True if it did."""
        if self.proc.poll() is not None:
            return False
        self.proc.kill()
        self.proc.wait()
        return True


@pytest.fixture
def peers(node):
    started = []
    yield lambda *argv: started.append(Peer(*argv)) or started[-1]
    killed = False
    for p in started:
        killed = p.kill() or killed
    if killed:      # what a killed peer left
        node.cleanup_dead()


def test_python_publisher_to_c_subscriber(node, peers):
    count = 6
    # no safe overflow, a blocking publisher: the subscriber polling
    # every 10 ms loses nothing however the machine is loaded
    with node.service(SERVICE_NAME, TRANSMISSION_DATA, mode="create",
                      qos={"enable_safe_overflow": False}) as svc:
        sub = peers(program("examples", "pubsub_subscriber"), str(count))
        pub = svc.publisher(unable_to_deliver="block")
        for i in range(count):
            with pub.loan() as loan:
                d = TransmissionData.from_buffer(loan.payload)
                d.x, d.y, d.funky = i, -i, i + 0.25
                del d
                assert loan.send() == 1
        pub.close()
    rc, out = sub.finish()
    assert rc == 0, out
    for i in range(count):
        assert (f"received: TransmissionData {{ x: {i}, y: {-i}, "
                f"funky: {i + 0.25:.2f} }} (sequence {i})") in out


def test_cxx_server_python_client(node, peers):
    server = peers(program("examples", "cxx", "request_response_server"), "5")
    with node.request_response(RR_SERVICE_NAME, STREAM_REQUEST,
                               TRANSMISSION_DATA, mode="open") as svc, \
            svc.client() as cli:
        for number, want in ((7, 2), (8, 3)):
            req = StreamRequest(number=number, responses=want)
            got = []
            with cli.send(bytes(req)) as pending:
                assert pending.servers == 1
                deadline = time.monotonic() + 30
                while not pending.ended and time.monotonic() < deadline:
                    for r in pending:
                        with r:
                            d = TransmissionData.from_buffer_copy(r.payload)
                            got.append((d.x, d.y, d.funky))
                    time.sleep(0.001)
                assert pending.ended
            assert got == [(number, i, number * 1.5 + i) for i in range(want)]
    rc, out = server.finish()
    assert rc == 0, out


def test_type_mismatch_across_languages(node, peers):
    """The C++ server made the service with its types: Python asking for
    other ones is refused as C would be."""
    peers(program("examples", "cxx", "request_response_server"), "1")
    wrong = floe.Type.of(ctypes.c_uint64 * 3, "StreamRequest")
    with pytest.raises(floe.FloeError) as e:
        node.request_response(RR_SERVICE_NAME, wrong, TRANSMISSION_DATA,
                              mode="open")
    assert e.value.name == "FLOE_E_TYPE_MISMATCH"


def test_numpy_64mib_to_cxx(node, peers):
    elements = 64 * 2**20 // 8
    rx = peers(program("tests", "cxx", "array_receiver"), "py/array",
               str(elements))
    with node.service("py/array", floe.Type("u64", 8, 8), mode="open") \
            as svc, svc.publisher(initial_max_slice_len=elements) as pub:
        with pub.loan(elements) as loan:
            arr = np.frombuffer(loan.payload, np.uint64)
            assert arr.nbytes == 64 * 2**20
            np.multiply(np.arange(elements, dtype=np.uint64),
                        np.uint64(0x9E3779B97F4A7C15), out=arr)
            del arr
            assert loan.send() == 1
        rc, out = rx.finish()
    assert rc == 0, out
    assert f"verified {64 * 2**20} bytes" in out
