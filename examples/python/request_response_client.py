#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Request-response in Python: asks the examples' server (C or C++) for
streams of TransmissionData until COUNT responses (default 10) came, each
request for up to 3. Exit status 0 only if all came, as asked.

    PYTHONPATH=bindings/python examples/python/request_response_client.py [COUNT]
"""
import sys
import time

import floe
from transmission_data import (RR_SERVICE_NAME, STREAM_REQUEST,
                               TRANSMISSION_DATA, StreamRequest,
                               TransmissionData)


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    deadline = time.monotonic() + 10 + count / 10
    received, number, ok = 0, 0, True
    with floe.Node("py_request_response_client") as node, \
            node.request_response(RR_SERVICE_NAME, STREAM_REQUEST,
                                  TRANSMISSION_DATA) as service, \
            service.client() as client:
        print(f"client ready: asking {RR_SERVICE_NAME} for {count} "
              "responses", flush=True)
        while received < count and time.monotonic() < deadline:
            want = min(3, count - received)
            with client.loan() as request:
                req = StreamRequest.from_buffer(request.payload)
                req.number, req.responses = number, want
                del req
                pending = request.send()
            with pending:
                if pending.servers == 0:   # no server yet: ask again
                    time.sleep(0.05)
                    continue
                got = 0
                while not pending.ended and time.monotonic() < deadline:
                    for response in pending:
                        with response:
                            d = TransmissionData.from_buffer_copy(
                                response.payload)
                        print(f"response: TransmissionData {{ x: {d.x}, "
                              f"y: {d.y}, funky: {d.funky:.2f} }}",
                              flush=True)
                        ok = ok and (d.x, d.y, d.funky) == \
                            (number, got, number * 1.5 + got)
                        got += 1
                    time.sleep(0.001)
                received += got
                ok = ok and got == want
            number += 1
    print(f"received {received} of {count} responses")
    return 0 if ok and received == count else 1


if __name__ == "__main__":
    sys.exit(main())
