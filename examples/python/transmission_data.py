# SPDX-License-Identifier: MIT
"""The C examples' payload types (transmission_data.h,
request_response_data.h) as ctypes structures: the same type names and
layouts, so C, C++ and Python processes share the services."""
import ctypes

import floe


class TransmissionData(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int32), ("y", ctypes.c_int32),
                ("funky", ctypes.c_double)]


class StreamRequest(ctypes.Structure):
    _fields_ = [("number", ctypes.c_uint64), ("responses", ctypes.c_uint64)]


TRANSMISSION_DATA = floe.Type.of(TransmissionData, "TransmissionData")
STREAM_REQUEST = floe.Type.of(StreamRequest, "StreamRequest")
SERVICE_NAME = "My/Funk/ServiceName"
RR_SERVICE_NAME = "My/Funk/RequestResponse"
