# SPDX-License-Identifier: MIT
"""Request-response with streams: a client's request gets a pending
response yielding every server's stream; a server answers an active
request with loaned responses and ends the stream by dropping it."""
from ._handle import Owner, drain
from ._lib import FloeError, check, ffi, lib
from ._types import Keep, choice
from .pubsub import _ALLOC, _UNABLE, ServiceBase, _Payload, port


class RequestResponseService(ServiceBase):
    """qos: a dict of struct floe_rr_qos fields."""

    def __init__(self, node, name, request_type, response_type,
                 mode="open_or_create", qos=None, attributes=None, perm=0):
        keep = Keep()
        init = None if mode == "open" else lib.floe_rr_qos_init
        opts = keep.service_opts("struct floe_rr_opts", "struct floe_rr_qos",
                                 init, qos, attributes, perm)
        keep.type(opts.request_type, request_type)
        keep.type(opts.response_type, response_type)
        self.request_type = request_type
        self.response_type = response_type
        self._open(node, "rr", name, mode, opts, keep)

    @property
    def qos(self):
        q = ffi.new("struct floe_rr_qos *")
        lib.floe_rr_qos(self._ptr, q)
        return {k: getattr(q, k) for k, _ in ffi.typeof(q[0]).fields}

    def client(self, **kw):
        return Client(self, **kw)

    def server(self, **kw):
        return Server(self, **kw)


def _slice_opts(opts, initial_max_slice_len, allocation, max_slice_len):
    opts.initial_max_slice_len = initial_max_slice_len
    opts.allocation = choice(_ALLOC, allocation, "allocation")
    opts.max_slice_len = max_slice_len


class Client(Owner):
    def __init__(self, service, initial_max_slice_len=0,
                 allocation="static", max_slice_len=0):
        opts = ffi.new("struct floe_client_opts *")
        _slice_opts(opts, initial_max_slice_len, allocation, max_slice_len)
        port(self, service, lib.floe_client_create, opts,
             lib.floe_client_destroy, "client")

    @property
    def id(self):
        return lib.floe_client_id(self._ptr)

    def loan(self, len=1):
        """A writable request of @len elements (uninitialised)."""
        out = ffi.new("floe_request_mut **")
        check(lib.floe_client_loan(self._ptr, len, out), "loan")
        return RequestMut(self, out[0])

    def send(self, data):
        """Copy @data into a request and send it: its PendingResponse."""
        buf = ffi.from_buffer(data)
        out = ffi.new("floe_pending_response **")
        check(lib.floe_client_send_copy(self._ptr, buf, len(buf), out),
              "send")
        return PendingResponse(self, out[0])


class RequestMut(_Payload):
    """A loaned request: write .payload, then send()."""

    _payload_fn = lib.floe_request_mut_payload
    _readonly = False

    def __init__(self, client, ptr):
        n = lib.floe_request_mut_len(ptr)
        self.len = n
        self._hold(client, ptr, lib.floe_request_mut_discard,
                   n * client.service.request_type.size)

    def send(self):
        """Send to every connected server: the PendingResponse. On
        FLOE_E_ACTIVE_LIMIT it stays loaned, to be sent later."""
        out = ffi.new("floe_pending_response **")
        rc = lib.floe_request_mut_send(self._ptr, out)
        if rc == lib.FLOE_E_ACTIVE_LIMIT:
            raise FloeError(rc, "send")
        # the loan ended; a failed send may still have opened a stream
        self._handle.consume(lambda _: None)
        pending = PendingResponse(self.port, out[0]) \
            if out[0] != ffi.NULL else None
        check(rc, "send")
        return pending

    def send_fire_and_forget(self):
        """Send expecting no response: the number of servers reached."""
        def send(ptr):
            return check(lib.floe_request_mut_send_fire_and_forget(ptr),
                         "send")
        try:
            return self._handle.consume(send, ends_on_error=False)
        except FloeError as e:
            if e.code != lib.FLOE_E_QOS_MISMATCH:
                self._handle.consume(lambda _: None)
            raise

    def discard(self):
        self.close()


class PendingResponse(Owner):
    """The responses to one request: receive() gives the next (None if
    none is waiting yet, or the stream ended: then .ended is True);
    iterating takes those waiting now. A server that died mid-stream raises
    FloeError (FLOE_E_DEAD). Closing it (drop()) stops listening."""

    def __init__(self, client, ptr):
        self.client = client
        self.ended = False
        self._own(ptr, lib.floe_pending_response_drop, client._handle,
                  "pending response")

    def receive(self):
        if self.ended:
            return None
        out = ffi.new("const floe_response **")
        rc = lib.floe_pending_response_receive(self._ptr, out)
        if rc == lib.FLOE_E_END_OF_STREAM:
            self.ended = True
            return None
        if check(rc, "receive") == 0:
            return None
        return Response(self, out[0])

    @property
    def servers(self):
        """Servers whose streams have not ended yet."""
        return lib.floe_pending_response_servers(self._ptr)

    def __iter__(self):
        return drain(self.receive)

    def drop(self):
        self.close()


class Response(_Payload):
    """A response, read-only in the server's memory; release() it."""

    _payload_fn = lib.floe_response_payload

    def __init__(self, pending, ptr):
        self.len = lib.floe_response_len(ptr)
        self.server_id = lib.floe_response_server_id(ptr)
        self._hold(pending, ptr, lib.floe_response_release,
                   lib.floe_response_payload_size(ptr))

    def release(self):
        self.close()


class Server(Owner):
    """backpressure: "discard" or "block" (a client's full buffer)."""

    def __init__(self, service, backpressure="discard",
                 initial_max_slice_len=0, allocation="static",
                 max_slice_len=0):
        opts = ffi.new("struct floe_server_opts *")
        opts.backpressure = choice(_UNABLE, backpressure, "backpressure")
        _slice_opts(opts, initial_max_slice_len, allocation, max_slice_len)
        port(self, service, lib.floe_server_create, opts,
             lib.floe_server_destroy, "server")

    @property
    def id(self):
        return lib.floe_server_id(self._ptr)

    def receive(self):
        """The next ActiveRequest, or None."""
        out = ffi.new("floe_active_request **")
        if check(lib.floe_server_receive(self._ptr, out), "receive") == 0:
            return None
        return ActiveRequest(self, out[0])

    def has_requests(self):
        return bool(lib.floe_server_has_requests(self._ptr))

    def update_connections(self):
        check(lib.floe_server_update_connections(self._ptr))

    def __iter__(self):
        return drain(self.receive)


class ActiveRequest(_Payload):
    """A request being served: .payload is read-only in the client's
    memory; loan() or send() responses; drop() (or leaving a with block)
    ends the stream."""

    _payload_fn = lib.floe_active_request_payload

    def __init__(self, server, ptr):
        self.len = lib.floe_active_request_len(ptr)
        self.client_id = lib.floe_active_request_client_id(ptr)
        self.fire_and_forget = bool(
            lib.floe_active_request_is_fire_and_forget(ptr))
        self._hold(server, ptr, lib.floe_active_request_drop,
                   lib.floe_active_request_payload_size(ptr))

    @property
    def connected(self):
        """False once the client dropped its pending response or went."""
        return bool(lib.floe_active_request_is_connected(self._ptr))

    def loan(self, len=1):
        out = ffi.new("floe_response_mut **")
        check(lib.floe_active_request_loan(self._ptr, len, out), "loan")
        return ResponseMut(self, out[0])

    def send(self, data):
        """Copy @data into a response and send it: 1 if queued, 0 if the
        client no longer listens."""
        buf = ffi.from_buffer(data)
        return check(lib.floe_active_request_send_copy(self._ptr, buf,
                                                       len(buf)), "send")

    def drop(self):
        self.close()


class ResponseMut(_Payload):
    """A loaned response: write .payload, then send()."""

    _payload_fn = lib.floe_response_mut_payload
    _readonly = False

    def __init__(self, request, ptr):
        n = lib.floe_response_mut_len(ptr)
        self.len = n
        self._hold(request, ptr, lib.floe_response_mut_discard,
                   n * request.port.service.response_type.size)

    def send(self):
        """1 if queued for the client, 0 if it no longer listens."""
        return self._handle.consume(
            lambda p: check(lib.floe_response_mut_send(p), "send"))

    def discard(self):
        self.close()
