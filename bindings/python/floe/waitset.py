# SPDX-License-Identifier: MIT
"""The waitset: one thread sleeps on listeners, descriptors, intervals."""
import weakref

from ._handle import Owner
from ._lib import check, ffi, lib
from ._types import choice
from .blackboard import Reader
from .event import Listener

NOTIFIED = lib.FLOE_TRIGGER_NOTIFIED
READABLE = lib.FLOE_TRIGGER_READABLE
TICK = lib.FLOE_TRIGGER_TICK
MISSED_DEADLINE = lib.FLOE_TRIGGER_MISSED_DEADLINE
_IMPL = {None: lib.FLOE_WAITSET_AUTO, "io_uring": lib.FLOE_WAITSET_IO_URING,
         "epoll": lib.FLOE_WAITSET_EPOLL}


def _detach_if_open(ws, attachment):
    if ws is not None and not ws.closed and attachment in ws._attached:
        ws.detach(attachment)


class _Run:
    """The Python callback of a run, and what it raised."""

    def __init__(self, fn):
        self.fn = fn
        self.error = None


@ffi.callback("int(floe_waitset *, int, enum floe_trigger, void *)")
def _trampoline(ws, attachment, trigger, user):
    run = ffi.from_handle(user)[0]
    try:
        return int(run.fn(attachment, trigger) or 0)
    except BaseException as e:      # stop the run, raise in the caller
        run.error = e
        return 1


class Waitset(Owner):
    """run(fn) and run_once(timeout, fn) call fn(attachment, trigger) per
    trigger (triggers: NOTIFIED, READABLE, TICK, MISSED_DEADLINE); fn
    returns a true int to stop run() with it. An exception in fn stops the
    run and is raised by run() or run_once(). impl: None, "io_uring" or
    "epoll"; handle_signals: stop run() on SIGINT/SIGTERM."""

    def __init__(self, impl=None, handle_signals=False):
        opts = ffi.new("struct floe_waitset_opts *")
        opts.impl = choice(_IMPL, impl, "impl")
        opts.handle_signals = handle_signals
        out = ffi.new("floe_waitset **")
        check(lib.floe_waitset_create(opts, out), "waitset")
        # attachments carry this one-element list: run() puts its _Run in
        self._current = [None]
        self._user = ffi.new_handle(self._current)
        self._attached = {}     # keeps attached listeners alive
        self._own(out[0], lib.floe_waitset_destroy, what="waitset")

    @property
    def impl(self):
        return ffi.string(lib.floe_waitset_impl_name(
            lib.floe_waitset_impl(self._ptr))).decode()

    def attach(self, what, deadline=None):
        """Attach a Listener or a blackboard Reader (NOTIFIED; with
        @deadline seconds, MISSED_DEADLINE when silent that long): the
        attachment id."""
        if isinstance(what, Listener):
            ptr = what._ptr
        elif isinstance(what, Reader):
            ptr = what.listener
        else:
            raise TypeError("attach takes a Listener or a Reader")
        ns = int((deadline or 0) * 1e9)
        a = check(lib.floe_waitset_attach_listener(self._ptr, ptr, ns,
                                                   self._user), "attach")
        self._attached[a] = what
        # a listener closing (or its reader) leaves the waitset first
        ws = weakref.ref(self)
        what._handle.on_close.append(lambda: _detach_if_open(ws(), a))
        return a

    def attach_fd(self, fd):
        """READABLE while @fd (an int or an object with fileno()) is."""
        if hasattr(fd, "fileno"):
            fd = fd.fileno()
        return check(lib.floe_waitset_attach_fd(self._ptr, fd, self._user),
                     "attach_fd")

    def attach_interval(self, period):
        """TICK every @period seconds."""
        return check(lib.floe_waitset_attach_interval(
            self._ptr, int(period * 1e9), self._user), "attach_interval")

    def detach(self, attachment):
        check(lib.floe_waitset_detach(self._ptr, attachment), "detach")
        self._attached.pop(attachment, None)

    def _run(self, fn, call):
        run = _Run(fn)
        self._current[0] = run
        try:
            rc = call()
        finally:
            self._current[0] = None
        if run.error is not None:
            raise run.error
        return check(rc, "waitset")

    def run_once(self, timeout, fn):
        """Report what is due within @timeout seconds: the number of
        triggers, or fn's stopping value."""
        ptr = self._ptr
        ns = int(timeout * 1e9)
        return self._run(
            fn, lambda: lib.floe_waitset_run_once(ptr, ns, _trampoline))

    def run(self, fn):
        ptr = self._ptr
        return self._run(fn, lambda: lib.floe_waitset_run(ptr, _trampoline))
