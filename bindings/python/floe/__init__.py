# SPDX-License-Identifier: MIT
"""floe for Python: zero-copy IPC over the floe C library (cffi, ABI mode).

    import floe
    with floe.Node("app") as node, \\
         node.service("robot/position", floe.Type("Position", 16, 8)) as svc, \\
         svc.publisher() as pub:
        with pub.loan() as sample:
            sample.payload[:] = struct.pack("dd", 1.0, 2.0)
            sample.send()

Payloads are memoryviews onto shared memory (read-only when received,
writable when loaned); np.frombuffer views them without a copy. A view is
unusable (ValueError) once its sample is released or its port closed, and
memory a NumPy array still refers to stays held until the array goes.
Errors raise FloeError (.code: the floe_error value, str: floe_strerror).
"""
from ._lib import ClosedError, FloeError, error_name, lib
from ._types import BYTES, Type
from .blackboard import Blackboard, Entry, Reader, Writer
from .event import EventService, Listener, Notifier
from .node import Node
from .pubsub import Publisher, Sample, SampleMut, Service, Subscriber
from .rr import (ActiveRequest, Client, PendingResponse,
                 RequestMut, RequestResponseService, Response, ResponseMut,
                 Server)
from .waitset import Waitset

__all__ = [
    "ActiveRequest", "BYTES", "Blackboard", "Client", "ClosedError", "Entry",
    "EventService", "FloeError", "Listener", "Node", "Notifier",
    "PendingResponse", "Publisher", "Reader", "RequestMut",
    "RequestResponseService", "Response", "ResponseMut", "Sample",
    "SampleMut", "Server", "Service", "Subscriber", "Type", "Waitset",
    "Writer", "error_name", "lib",
]
