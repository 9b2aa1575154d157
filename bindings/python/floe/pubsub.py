# SPDX-License-Identifier: MIT
"""Publish-subscribe: zero-copy loans and samples as memoryviews."""
import weakref

from ._handle import Owner, drain
from ._lib import check, ffi, lib
from ._types import Keep, choice
from .node import get_service

# the out-parameters of the per-sample calls, parsed once
_SAMPLE_MUT_OUT = ffi.typeof("floe_sample_mut **")
_SAMPLE_OUT = ffi.typeof("const floe_sample **")
_UNABLE = {"discard": lib.FLOE_DELIVER_DISCARD, "block": lib.FLOE_DELIVER_BLOCK}
_ALLOC = {"static": lib.FLOE_ALLOC_STATIC,
          "power_of_two": lib.FLOE_ALLOC_POWER_OF_TWO}


class ServiceBase(Owner):
    """A service of any pattern: its name and attributes."""

    def _open(self, node, kind, name, mode, opts, keep):
        ptr = get_service(node, kind, mode, name, opts, keep)
        self.node = node        # services go before their node
        self._own(ptr, lib.floe_service_close, node._handle,
                  f"service {name!r}")

    @property
    def name(self):
        return ffi.string(lib.floe_service_name(self._ptr)).decode()

    def attribute(self, key):
        """The value of attribute @key, or None."""
        v = lib.floe_service_attribute(self._ptr, key.encode())
        return None if v == ffi.NULL else ffi.string(v).decode()


class Service(ServiceBase):
    """A publish-subscribe service. mode: "open", "create" or
    "open_or_create"; qos: a dict of struct floe_pubsub_qos fields (create:
    the QoS, defaults for the rest; open: minimums); attributes: a dict;
    perm: permission bits of its shared memory (0: 0600)."""

    def __init__(self, node, name, type, mode="open_or_create", qos=None,
                 attributes=None, perm=0):
        keep = Keep()
        self.type = type
        init = None if mode == "open" else lib.floe_pubsub_qos_init
        opts = keep.service_opts("struct floe_service_opts",
                                 "struct floe_pubsub_qos", init, qos,
                                 attributes, perm)
        keep.type(opts.type, type)
        self._open(node, "service", name, mode, opts, keep)

    @property
    def qos(self):
        q = ffi.new("struct floe_pubsub_qos *")
        lib.floe_service_qos(self._ptr, q)
        return {k: getattr(q, k) for k, _ in ffi.typeof(q[0]).fields}

    def publisher(self, **kw):
        return Publisher(self, **kw)

    def subscriber(self, **kw):
        return Subscriber(self, **kw)


def port(owner, service, create, opts, end, what):
    """Create a port of @service with floe_*_create(service, opts, out)."""
    out = ffi.new(ffi.typeof(end).args[0].cname + "*")
    check(create(service._ptr, opts, out), what)
    owner.service = service         # ports go before their service
    owner._own(out[0], end, service._handle, what)


class Publisher(Owner):
    """unable_to_deliver: "discard" or "block"; slices: initial_max_slice_len,
    allocation ("static" or "power_of_two"), max_slice_len."""

    def __init__(self, service, unable_to_deliver="discard",
                 initial_max_slice_len=0, allocation="static",
                 max_slice_len=0):
        opts = ffi.new("struct floe_publisher_opts *")
        lib.floe_publisher_opts_init(opts)
        opts.unable_to_deliver = choice(_UNABLE, unable_to_deliver,
                                         "unable_to_deliver")
        opts.initial_max_slice_len = initial_max_slice_len
        opts.allocation = choice(_ALLOC, allocation, "allocation")
        opts.max_slice_len = max_slice_len
        port(self, service, lib.floe_publisher_create, opts,
             lib.floe_publisher_destroy, "publisher")

    @property
    def id(self):
        return lib.floe_publisher_id(self._ptr)

    def loan(self, len=1):
        """A writable sample of @len elements (uninitialised)."""
        out = ffi.new(_SAMPLE_MUT_OUT)
        check(lib.floe_publisher_loan(self._ptr, len, out), "loan")
        return SampleMut(self, out[0])

    def send(self, data):
        """Copy @data (bytes-like, a whole number of elements) and send;
        returns the number of subscribers reached."""
        buf = ffi.from_buffer(data)
        return check(lib.floe_publisher_send_copy(self._ptr, buf, len(buf)),
                     "send")

    def update_connections(self):
        check(lib.floe_publisher_update_connections(self._ptr))


class _Payload(Owner):
    """A sample or loan: .payload is a memoryview onto shared memory,
    unusable (ValueError) once the sample is released, sent or its port
    closed."""

    _payload_fn = _header_fn = None
    _readonly = True

    def _hold(self, port, ptr, end, size):
        self.port = port            # samples go before their port
        self._size = size
        self._own(ptr, end, port._handle)
        self._view = lambda: None

    @property
    def payload(self):
        # one view while the user keeps it: it (and anything made from
        # it) holds the memory
        self._handle.get()
        view = self._view()
        if view is None:
            view = self._handle.view(type(self)._payload_fn(self._ptr),
                                     self._size, self._readonly)
            self._view = weakref.ref(view)
        return view

    def user_header(self, size):
        """The user header's @size bytes (the service's user_header_size),
        or None if the service has none."""
        p = type(self)._header_fn(self._ptr)
        if p == ffi.NULL:
            return None
        return self._handle.view(p, size, self._readonly)


class SampleMut(_Payload):
    """A loan: write .payload in place, then send(); leaving a with block
    (or closing it) without sending discards it."""

    _payload_fn = lib.floe_sample_mut_payload
    _header_fn = lib.floe_sample_mut_user_header
    _readonly = False

    def __init__(self, publisher, ptr):
        n = lib.floe_sample_mut_len(ptr)
        self.len = n
        self._hold(publisher, ptr, lib.floe_sample_mut_discard,
                   n * publisher.service.type.size)

    def send(self):
        """Deliver it; returns the number of subscribers reached."""
        return self._handle.consume(
            lambda p: check(lib.floe_sample_mut_send(p), "send"))

    def discard(self):
        self.close()


class Sample(_Payload):
    """A received sample, read-only in the publisher's shared memory;
    release() (or leaving a with block) gives it back."""

    _payload_fn = lib.floe_sample_payload
    _header_fn = lib.floe_sample_user_header

    def __init__(self, subscriber, ptr):
        self.len = lib.floe_sample_len(ptr)
        self._hold(subscriber, ptr, lib.floe_sample_release,
                   lib.floe_sample_payload_size(ptr))

    @property
    def publisher_id(self):
        return lib.floe_sample_publisher_id(self._ptr)

    @property
    def sequence(self):
        """Per-publisher sequence number, from 0."""
        return lib.floe_sample_sequence(self._ptr)

    @property
    def payload_size(self):
        return self._size

    def release(self):
        self.close()


class Subscriber(Owner):
    """Iterating takes every sample waiting now (without blocking)."""

    def __init__(self, service, buffer_size=0):
        opts = ffi.new("struct floe_subscriber_opts *", {
            "buffer_size": buffer_size})
        port(self, service, lib.floe_subscriber_create, opts,
             lib.floe_subscriber_destroy, "subscriber")

    @property
    def id(self):
        return lib.floe_subscriber_id(self._ptr)

    def receive(self):
        """The next Sample, or None if nothing is waiting."""
        out = ffi.new(_SAMPLE_OUT)
        if check(lib.floe_subscriber_receive(self._ptr, out), "receive") == 0:
            return None
        return Sample(self, out[0])

    def has_samples(self):
        return bool(lib.floe_subscriber_has_samples(self._ptr))

    def __iter__(self):
        return drain(self.receive)
