# SPDX-License-Identifier: MIT
"""Events, request-response streams, the blackboard, the waitset and
discovery from Python."""
import os
import struct
import threading

import pytest

import floe
from floe import waitset
from floe._lib import lib

U64 = floe.Type("u64", 8, 8)


def test_events(node):
    with node.event("py/ev", qos={"event_id_max": 63}) as svc, \
            svc.listener() as lis, svc.notifier() as noti:
        assert svc.qos["event_id_max"] == 63
        assert lis.wait() == []
        for i in (9, 2, 9, 63):
            assert noti.notify(i) == 1
        assert lis.wait(5.0) == [2, 9, 63]
        assert lis.wait(0.001) == []
        with pytest.raises(floe.FloeError) as e:
            noti.notify(64)
        assert e.value.code == lib.FLOE_E_INVALID
        assert lis.fileno() >= 0
    with pytest.raises(floe.FloeError) as e:
        node.event("py/ev-none", mode="open")
    assert e.value.code == lib.FLOE_E_NOT_FOUND


def test_blocking_wait_wakes(node):
    with node.event("py/ev-block") as svc, svc.listener() as lis:
        def fire():
            with floe.Node("firer") as n2, n2.event("py/ev-block") as s2, \
                    s2.notifier() as noti:
                noti.notify(5)
        t = threading.Timer(0.05, fire)
        t.start()
        assert lis.wait(None) == [5]
        t.join()


def test_request_response_streams(node):
    with node.request_response("py/rr", U64, U64) as svc, \
            svc.server() as srv, svc.client() as cli:
        with cli.loan() as req:
            req.payload[:] = struct.pack("Q", 3)
            pending = req.send()
        assert pending.servers == 1
        with srv.receive() as active:
            assert active.client_id == cli.id and not active.fire_and_forget
            (n,) = struct.unpack("Q", active.payload)
            for i in range(n):
                with active.loan() as resp:
                    resp.payload[:] = struct.pack("Q", 100 + i)
                    assert resp.send() == 1
            assert active.send(struct.pack("Q", 200)) == 1
        # leaving the with block dropped the request: the stream ends
        got = []
        with pending:
            while not pending.ended:
                for r in pending:
                    with r:
                        got.append(struct.unpack("Q", r.payload)[0])
                        assert r.server_id == srv.id
        assert got == [100, 101, 102, 200]

        p2 = cli.send(struct.pack("Q", 1))
        a2 = srv.receive()
        assert a2.connected
        p2.drop()
        assert not a2.connected
        a2.drop()

        with cli.loan() as req:
            with pytest.raises(floe.FloeError) as e:
                req.send_fire_and_forget()
            assert e.value.code == lib.FLOE_E_QOS_MISMATCH
            req.payload[:] = bytes(8)     # still loaned: usable


def test_request_refused_for_the_active_limit_stays_loaned(node):
    with node.request_response("py/rr-limit", U64, U64, mode="create",
                               qos={"max_active_requests_per_client": 1}) \
            as svc, svc.server() as srv, svc.client() as cli:
        first = cli.send(struct.pack("Q", 1))
        req = cli.loan()
        req.payload[:] = struct.pack("Q", 2)
        with pytest.raises(floe.FloeError) as e:
            req.send()
        assert e.value.code == lib.FLOE_E_ACTIVE_LIMIT
        assert struct.unpack("Q", req.payload) == (2,)    # still loaned
        first.drop()
        srv.receive().drop()            # the first stream ends
        with req.send() as pending:
            assert pending.servers == 1
        with pytest.raises(floe.ClosedError):
            req.send()


def test_fire_and_forget(node):
    with node.request_response("py/rr-ff", U64, U64, mode="create",
                               qos={"enable_fire_and_forget": True}) \
            as svc, svc.server() as srv, svc.client() as cli:
        with cli.loan() as req:
            req.payload[:] = struct.pack("Q", 9)
            assert req.send_fire_and_forget() == 1
        with srv.receive() as active:
            assert active.fire_and_forget
            assert struct.unpack("Q", active.payload) == (9,)
            with pytest.raises(floe.FloeError) as e:
                active.loan()
            assert e.value.code == lib.FLOE_E_NO_RESPONSE


def test_request_response_type_check(node):
    with node.request_response("py/rr-t", U64, U64, mode="create"):
        with pytest.raises(floe.FloeError) as e:
            node.request_response("py/rr-t", U64, floe.Type("u32", 4, 4),
                                  mode="open")
        assert e.value.code == lib.FLOE_E_TYPE_MISMATCH


def test_blackboard(node):
    entries = [floe.Entry(1, floe.Type("f64", 8, 8), struct.pack("d", 0.5)),
               floe.Entry(2, floe.Type("u32", 4, 4))]
    with node.blackboard("py/bb", entries, create=True) as bb, \
            bb.writer() as w, bb.reader() as r:
        assert bb.keys == [1, 2]
        assert r.read(1, 8) == (struct.pack("d", 0.5), 0)
        w.write(1, struct.pack("d", 2.25))
        assert r.read(1, 8) == (struct.pack("d", 2.25), 1)
        slot = w.loan(2, 4)
        slot[:] = struct.pack("I", 77)
        w.publish(2)
        with pytest.raises(ValueError):
            slot[0] = 1                   # published: no longer writable
        assert r.wait(1.0) == [1, 2]
        assert r.read(2, 4)[0] == struct.pack("I", 77)
        assert r.generation(2) == 1 and not r.changed(2)
        with pytest.raises(floe.FloeError) as e:
            r.read(5, 8)
        assert e.value.code == lib.FLOE_E_NO_KEY
        with pytest.raises(floe.FloeError) as e:
            w.write(2, struct.pack("Q", 1))
        assert e.value.code == lib.FLOE_E_TYPE_MISMATCH
        with node.blackboard("py/bb", entries[1:]) as opened:
            assert opened.keys == [1, 2]


def test_waitset(node):
    with node.event("py/ws") as svc, svc.listener() as lis, \
            svc.notifier() as noti, floe.Waitset() as ws:
        assert ws.impl in ("io_uring", "epoll")
        a = ws.attach(lis)
        seen = []

        def on(att, trigger):
            if att == a and trigger == waitset.NOTIFIED:
                seen.extend(lis.wait())
                return 42
            return 0
        noti.notify(4)
        assert ws.run(on) == 42
        assert seen == [4]

        r, wfd = os.pipe()
        try:
            fa = ws.attach_fd(r)
            os.write(wfd, b"x")
            hits = []
            ws.run_once(5.0, lambda att, t: hits.append((att, t)))
            assert (fa, waitset.READABLE) in hits
            ws.detach(fa)
        finally:
            os.close(r)
            os.close(wfd)

        ws.attach_interval(0.001)

        def boom(att, trigger):
            raise RuntimeError("from the callback")
        with pytest.raises(RuntimeError, match="from the callback"):
            ws.run(boom)
        assert ws.run_once(0, lambda *_: 0) >= 0
        with pytest.raises(floe.FloeError) as e:
            ws.attach(lis)
        assert e.value.code == lib.FLOE_E_ATTACHED
        # a listener closed while attached leaves the waitset first
        lis2 = svc.listener()
        a2 = ws.attach(lis2)
        lis2.close()
        with pytest.raises(floe.FloeError) as e:
            ws.detach(a2)
        assert e.value.code == lib.FLOE_E_INVALID


def test_discovery(node):
    with node.service("py/disc", U64) as svc, svc.publisher() as pub:
        services = {s["name"]: s for s in node.services()}
        assert services["py/disc"]["publishers"] == 1
        assert services["py/disc"]["type_name"] == "u64"
        assert any(p["id"] == pub.id for p in node.ports())
        assert any(n["id"] == node.id and n["name"] == "pytest"
                   for n in node.nodes())
