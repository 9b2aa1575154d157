# SPDX-License-Identifier: MIT
"""Zero-copy views and their lifetimes: payloads are views of the shared
memory itself (NumPy included); a released sample, a sent loan or a
closed port makes its views unusable (ValueError), never a crash; memory
a NumPy array still refers to stays held until the array goes."""
import gc

import numpy as np
import pytest

import floe
from floe._lib import ffi, lib

U64 = floe.Type("u64", 8, 8)


def address(cdata):
    return int(ffi.cast("uintptr_t", cdata))


@pytest.fixture
def pair(node):
    qos = {"subscriber_max_borrowed_samples": 1}
    with node.service("py/views", U64, mode="create", qos=qos) as svc, \
            svc.subscriber() as sub, \
            svc.publisher(initial_max_slice_len=1024) as pub:
        yield svc, pub, sub


def send_range(pub, n, start=0):
    with pub.loan(n) as loan:
        np.frombuffer(loan.payload, np.uint64)[:] = np.arange(start, start + n)
        loan.send()


def test_numpy_views_are_zero_copy(pair):
    _, pub, sub = pair
    with pub.loan(1024) as loan:
        arr = np.frombuffer(loan.payload, np.uint64)
        assert arr.flags.writeable
        # the array is the loaned chunk itself
        assert arr.__array_interface__["data"][0] == \
            address(lib.floe_sample_mut_payload(loan._ptr))
        arr[:] = np.arange(1024) * 3
        loan.send()
    with sub.receive() as s:
        got = np.frombuffer(s.payload, np.uint64)
        assert not got.flags.writeable
        assert got.__array_interface__["data"][0] == \
            address(lib.floe_sample_payload(s._ptr))
        assert np.array_equal(got, np.arange(1024) * 3)
        del got


def test_released_sample_view_is_unusable(pair):
    _, pub, sub = pair
    send_range(pub, 4)
    s = sub.receive()
    view = s.payload
    assert view[0] == 0
    s.release()
    with pytest.raises(ValueError):
        view[0]
    with pytest.raises(ValueError):
        bytes(view)
    with pytest.raises(floe.ClosedError):
        s.payload
    s.release()                     # twice is harmless


def test_sent_loan_view_is_unusable(pair):
    _, pub, _ = pair
    loan = pub.loan(2)
    view = loan.payload
    loan.send()
    with pytest.raises(ValueError):
        view[0] = 1
    with pytest.raises(floe.ClosedError):
        loan.send()


def test_closed_port_makes_views_unusable(node, pair):
    _, pub, sub = pair
    send_range(pub, 8)
    s = sub.receive()
    view = s.payload
    sub.close()                     # releases the sample first
    with pytest.raises(ValueError):
        view[0]
    with pytest.raises(floe.ClosedError):
        sub.receive()
    with pytest.raises(floe.ClosedError):
        s.payload


def test_numpy_array_keeps_its_memory(node, pair):
    """An array made from a view outlives release() and close() safely:
    its memory stays held (the sample counts as borrowed, the subscriber
    stays registered) until the array goes."""
    svc, pub, sub = pair
    send_range(pub, 512, start=1000)
    s = sub.receive()
    arr = np.frombuffer(s.payload, np.uint64)
    s.release()
    send_range(pub, 512)
    # the one sample the subscriber may borrow is still held by arr
    with pytest.raises(floe.FloeError) as e:
        sub.receive()
    assert e.value.code == lib.FLOE_E_BORROW_LIMIT
    assert np.array_equal(arr, np.arange(1000, 1512))
    del arr
    with sub.receive() as s2:
        assert np.frombuffer(s2.payload, np.uint64)[511] == 511

    send_range(pub, 512, start=7)
    s3 = sub.receive()
    arr = np.frombuffer(s3.payload, np.uint64)
    sub.close()
    del s3
    gc.collect()

    def subscribers():
        return [i["subscribers"] for i in node.services()
                if i["name"] == "py/views"][0]
    assert subscribers() == 1       # destroyed only after the array
    assert np.array_equal(arr, np.arange(7, 519))
    del arr
    assert subscribers() == 0


def test_collected_samples_are_returned(pair):
    """Samples nobody keeps are released: the borrow limit (1) is never
    hit by a loop that does not release explicitly."""
    _, pub, sub = pair
    for i in range(20):
        send_range(pub, 1, start=i)
        assert sub.receive().payload.cast("Q")[0] == i


def test_closing_the_node_closes_everything(domain):
    node = floe.Node("closer")
    svc = node.service("py/close", U64)
    pub = svc.publisher()
    sub = svc.subscriber()
    send_range(pub, 1, start=5)
    s = sub.receive()
    view = s.payload
    loan = pub.loan()
    node.close()
    for call in (pub.loan, sub.receive, lambda: svc.name, loan.send):
        with pytest.raises(floe.ClosedError):
            call()
    with pytest.raises(ValueError):
        view[0]
    assert node.closed and svc.closed and s.closed
