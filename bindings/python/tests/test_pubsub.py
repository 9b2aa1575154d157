# SPDX-License-Identifier: MIT
"""Publish-subscribe from Python: typed samples and slices, iteration,
errors, type checks against a service made through the C API."""
import ctypes
import struct

import pytest

import floe
from floe._lib import ffi, lib

U32 = floe.Type("u32", 4, 4)


class Pose(ctypes.Structure):
    _fields_ = [("x", ctypes.c_double), ("y", ctypes.c_double),
                ("id", ctypes.c_uint32)]


POSE = floe.Type.of(Pose, "t.Pose")


def test_typed_roundtrip(node):
    with node.service("py/pose", POSE, mode="create",
                      attributes={"unit": "m"}) as svc, \
            svc.subscriber() as sub, svc.publisher() as pub:
        assert svc.name == "py/pose" and svc.attribute("unit") == "m"
        assert svc.attribute("colour") is None
        assert POSE.size == 24 and POSE.align == 8
        assert sub.receive() is None
        with pub.loan() as loan:
            assert not loan.payload.readonly and len(loan.payload) == 24
            p = Pose.from_buffer(loan.payload)
            p.x, p.y, p.id = 1.5, -2.0, 7
            del p
            assert loan.send() == 1
        with sub.receive() as s:
            assert s.payload.readonly
            got = Pose.from_buffer_copy(s.payload)
            assert (got.x, got.y, got.id) == (1.5, -2.0, 7)
            assert s.publisher_id == pub.id and s.sequence == 0
            with pytest.raises(TypeError):
                s.payload[0] = 1            # read-only shared memory


def test_slices_and_iteration(node):
    with node.service("py/slice", U32) as svc, \
            svc.subscriber() as sub, \
            svc.publisher(initial_max_slice_len=16) as pub:
        for n in (1, 5, 16):
            with pub.loan(n) as loan:
                assert loan.len == n
                loan.payload.cast("I")[:] = \
                    memoryview(struct.pack(f"{n}I", *range(n))).cast("I")
                loan.send()
        assert pub.send(struct.pack("3I", 7, 8, 9)) == 1
        got = []
        for s in sub:
            got.append(list(s.payload.cast("I")))
            s.release()
        assert got == [[0], list(range(5)), list(range(16)), [7, 8, 9]]
        with pytest.raises(floe.FloeError) as e:
            pub.loan(17)
        assert e.value.code == lib.FLOE_E_TOO_LARGE
        assert e.value.name == "FLOE_E_TOO_LARGE"


def test_errors_say_what(node):
    with node.service("py/err", U32, mode="create"):
        with pytest.raises(floe.FloeError) as e:
            node.service("py/err", U32, mode="create")
        assert e.value.code == lib.FLOE_E_EXISTS
        assert "service already exists" in str(e.value)
        with pytest.raises(floe.FloeError) as e:
            node.service("py/err", floe.Type("u32", 8, 4), mode="open")
        assert e.value.code == lib.FLOE_E_TYPE_MISMATCH
    with pytest.raises(floe.FloeError) as e:
        node.service("py/none", U32, mode="open")
    assert e.value.code == lib.FLOE_E_NOT_FOUND
    with pytest.raises(ValueError):
        node.service("py/none", U32, mode="sometimes")
    with node.service("py/err2", U32) as svc:
        with pytest.raises(ValueError, match="allocation must be one of"):
            svc.publisher(allocation="huge")
    with pytest.raises(ValueError, match="backend must be one of"):
        floe.Node("x", backend="floppy")


def test_service_from_c_opened_by_type_name(node):
    """A service the C API created with a type name and layout opens from
    Python with the same name, size and alignment, and only so."""
    opts = ffi.new("struct floe_service_opts *")
    name = ffi.new("char[]", b"t.Pose")
    opts.type.name, opts.type.size, opts.type.align = name, 24, 8
    out = ffi.new("floe_service **")
    assert lib.floe_service_create(node._ptr, b"py/from-c", opts, out) == 0
    try:
        with node.service("py/from-c", POSE, mode="open") as svc:
            assert svc.name == "py/from-c"
        for wrong in (floe.Type("t.Pose", 16, 8), floe.Type("t.Pose", 24, 4),
                      floe.Type("t.Other", 24, 8)):
            with pytest.raises(floe.FloeError) as e:
                node.service("py/from-c", wrong, mode="open")
            assert e.value.code == lib.FLOE_E_TYPE_MISMATCH
    finally:
        lib.floe_service_close(out[0])


def test_qos_and_user_header(node):
    qos = {"history_size": 2, "subscriber_max_buffer_size": 4,
           "user_header_size": 8}
    with node.service("py/qos", U32, mode="create", qos=qos) as svc:
        assert svc.qos["history_size"] == 2
        assert svc.qos["user_header_size"] == 8
        with svc.publisher() as pub:
            for i in range(3):
                with pub.loan() as loan:
                    loan.user_header(8)[:] = struct.pack("q", 100 + i)
                    loan.payload[:] = struct.pack("I", i)
                    loan.send()
            # a late subscriber gets the history (the last two)
            with svc.subscriber() as sub:
                pub.update_connections()
                got = [(struct.unpack("q", s.user_header(8))[0],
                        struct.unpack("I", s.payload)[0]) for s in sub]
        assert got == [(101, 1), (102, 2)]
        with pytest.raises(floe.FloeError) as e:
            node.service("py/qos", U32, mode="open",
                         qos={"history_size": 3})
        assert e.value.code == lib.FLOE_E_QOS_MISMATCH
