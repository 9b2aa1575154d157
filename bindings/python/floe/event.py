# SPDX-License-Identifier: MIT
"""Events: notifiers signal ids, listeners learn which fired."""
from ._handle import Owner
from ._lib import check, ffi, lib
from ._types import Keep
from .pubsub import ServiceBase, port

FOREVER = None


@ffi.callback("void(uint64_t, void *)")
def collect_id(event_id, ctx):
    """Appends each reported id (or blackboard key) to the list at ctx."""
    ffi.from_handle(ctx).append(event_id)


def collect_ids(call):
    """call(cb, ctx) reports ids through cb: the list of them."""
    ids = []
    check(call(collect_id, ffi.new_handle(ids)), "wait")
    return ids


class EventService(ServiceBase):
    """qos: a dict of struct floe_event_qos fields (max_notifiers,
    max_listeners, max_nodes, event_id_max)."""

    def __init__(self, node, name, mode="open_or_create", qos=None,
                 attributes=None, perm=0):
        keep = Keep()
        init = None if mode == "open" else lib.floe_event_qos_init
        opts = keep.service_opts("struct floe_event_opts",
                                 "struct floe_event_qos", init, qos,
                                 attributes, perm)
        self._open(node, "event", name, mode, opts, keep)

    @property
    def qos(self):
        q = ffi.new("struct floe_event_qos *")
        lib.floe_event_qos(self._ptr, q)
        return {k: getattr(q, k) for k, _ in ffi.typeof(q[0]).fields}

    def notifier(self):
        return Notifier(self)

    def listener(self):
        return Listener(self)


def _create_without_opts(create):
    return lambda service, _opts, out: create(service, out)


class Notifier(Owner):
    def __init__(self, service):
        port(self, service, _create_without_opts(lib.floe_notifier_create),
             None, lib.floe_notifier_destroy, "notifier")

    @property
    def id(self):
        return lib.floe_notifier_id(self._ptr)

    def notify(self, event_id=0):
        """Signal @event_id; returns the number of listeners signalled."""
        return check(lib.floe_notifier_notify(self._ptr, event_id), "notify")


class Listener(Owner):
    """wait() returns the ids that fired since the last wait, increasing
    (empty: none within the timeout)."""

    def __init__(self, service):
        port(self, service, _create_without_opts(lib.floe_listener_create),
             None, lib.floe_listener_destroy, "listener")

    @property
    def id(self):
        return lib.floe_listener_id(self._ptr)

    def wait(self, timeout=0.0):
        """@timeout in seconds: 0 does not block, None waits for the
        first event however long it takes."""
        ptr = self._ptr
        if timeout is FOREVER:
            return collect_ids(
                lambda cb, ctx: lib.floe_listener_blocking_wait(ptr, cb, ctx))
        if timeout <= 0:
            return collect_ids(
                lambda cb, ctx: lib.floe_listener_try_wait(ptr, cb, ctx))
        ns = int(timeout * 1e9)
        return collect_ids(
            lambda cb, ctx: lib.floe_listener_timed_wait(ptr, ns, cb, ctx))

    def fileno(self):
        """Readable when an event fired (then call wait())."""
        return check(lib.floe_listener_fd(self._ptr))
