#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Publish-subscribe in Python: receives COUNT TransmissionData samples
(default 10) from publishers in any language, or gives up after
10 + COUNT / 10 seconds. Exit status 0 only if all came.

    PYTHONPATH=bindings/python examples/python/subscriber.py [COUNT]
"""
import sys
import time

import floe
from transmission_data import SERVICE_NAME, TRANSMISSION_DATA, TransmissionData


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    deadline = time.monotonic() + 10 + count / 10
    received = 0
    with floe.Node("py_subscriber") as node, \
            node.service(SERVICE_NAME, TRANSMISSION_DATA) as service, \
            service.subscriber() as subscriber:
        print(f"subscriber ready: waiting for {count} samples", flush=True)
        while received < count and time.monotonic() < deadline:
            for sample in subscriber:
                with sample:
                    # the payload is a read-only view of shared memory
                    d = TransmissionData.from_buffer_copy(sample.payload)
                    print(f"received: TransmissionData {{ x: {d.x}, "
                          f"y: {d.y}, funky: {d.funky:.2f} }} "
                          f"(sequence {sample.sequence})", flush=True)
                received += 1
            time.sleep(0.01)
    print(f"received {received} of {count} samples")
    return 0 if received == count else 1


if __name__ == "__main__":
    sys.exit(main())
