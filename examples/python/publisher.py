#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Publish-subscribe in Python: sends COUNT TransmissionData samples
(default 10), 100 ms apart, to subscribers in any language.

    PYTHONPATH=bindings/python examples/python/publisher.py [COUNT]
"""
import sys
import time

import floe
from transmission_data import SERVICE_NAME, TRANSMISSION_DATA, TransmissionData


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    with floe.Node("py_publisher") as node, \
            node.service(SERVICE_NAME, TRANSMISSION_DATA) as service, \
            service.publisher() as publisher:
        for i in range(count):
            with publisher.loan() as sample:
                # a ctypes view of the loan: written in place, no copy
                data = TransmissionData.from_buffer(sample.payload)
                data.x, data.y, data.funky = i, i * 3, i * 812.12
                del data
                reached = sample.send()
            print(f"sent sample {i} to {reached} subscriber(s)", flush=True)
            time.sleep(0.1)


if __name__ == "__main__":
    main()
