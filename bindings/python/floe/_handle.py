# SPDX-License-Identifier: MIT
"""Ownership of C handles, and memoryviews that never outlive the memory.

floe's C library must end samples before their port, ports before their
service, services before their node (it aborts otherwise), and a payload
must not be touched once its sample is released. Python objects go in any
order, and a NumPy array made with np.frombuffer from a view keeps only a
plain reference to that view (no buffer export), so releasing the view
alone would leave the array pointing at memory given back to floe.

So every C handle lives in a Handle that ends it only when
  - it was closed (explicitly, by a context manager or by closing its
    parent) or its Python object was collected,
  - every child handle has ended, and
  - every payload view handed out of it is gone: the memoryview object
    itself (NumPy arrays refer to it) and the buffer beneath it (slices of
    the view refer to that).
Closing releases the views at once: using one afterwards raises
ValueError (unless something holds a buffer export of it, as
ctypes.from_buffer does: that keeps working, and holds the memory, until it
goes). Collecting the object releases nothing: a view keeps its sample,
and the port its sample came from, until it goes. Memory that a NumPy
array still refers to stays held (the sample not released, the port not
destroyed) until that array goes.
"""
import atexit
import weakref

from ._lib import ClosedError, ffi


_CHAR_P = ffi.typeof("char *")


class Handle:
    """One C handle: @end(ptr) ends it, after its children (see above)."""

    def __init__(self, ptr, end, parent=None, what="object"):
        self.ptr = ptr
        self._end = end
        self._parent = parent
        self._what = what
        self._children = set()
        self._views = []        # (weak) memoryviews to release on close
        self._holds = 1         # the owner's; each view adds two
        self.on_close = []      # called first when it closes
        self.closed = False
        if parent is not None:
            parent._children.add(self)

    def get(self):
        """The C handle; ClosedError once closed."""
        if self.closed:
            raise ClosedError(f"{self._what} is closed")
        return self.ptr

    def consume(self, call, ends_on_error=True):
        """Return call(ptr) for a call that ends the handle (a send), and
        close this handle without calling end. If the call raises, the
        handle stays open unless @ends_on_error."""
        ptr = self.get()
        try:
            result = call(ptr)
        except Exception:
            if ends_on_error:
                self._end = None
                self.close()
            raise
        self._end = None
        self.close()
        return result

    def close(self):
        if self.closed:
            return
        self.closed = True
        for fn in self.on_close:
            fn()
        for ref in self._views:
            view = ref()
            if view is None:
                continue
            try:
                view.release()
            except BufferError:
                # exported (ctypes.from_buffer, memoryview(view)): the
                # importer keeps it, and the memory stays held, until it goes
                pass
        # (the weakrefs stay: their callbacks drop the views' holds)
        for child in list(self._children):
            child.close()
        self._drop()

    def abandon(self, _ref=None):
        """Its Python object was collected (a weakref callback): end it
        once the views and children that still use it are gone."""
        if not self.closed:
            self.closed = True
            self._drop()

    def _drop(self, _ref=None):
        """One hold less (also a weakref callback, for views)."""
        self._holds -= 1
        self._maybe_end()

    def _maybe_end(self):
        if self._holds or self._children or self.ptr is None:
            return
        ptr, self.ptr = self.ptr, None
        if self._end is not None:
            self._end(ptr)
        if self._parent is not None:
            self._parent._children.discard(self)
            self._parent._maybe_end()

    def view(self, address, size, readonly):
        """A memoryview of @size bytes at @address, released when this
        handle closes; the memory stays held while anything refers to it."""
        self.get()
        self._holds += 2
        # the buffer's cdata is collected with the buffer and what views it
        keep = ffi.gc(ffi.cast(_CHAR_P, address),
                      lambda _: self._drop(), size=0)
        base = memoryview(ffi.buffer(keep, size))
        view = base.toreadonly() if readonly else base
        if readonly:
            base.release()
        self._views = [r for r in self._views if r() is not None]
        self._views.append(weakref.ref(view, self._drop))
        return view


# nodes and waitsets: closed (with all they hold) when the interpreter exits
_roots = weakref.WeakSet()


@atexit.register
def _close_roots():
    for root in list(_roots):
        root.close()


class Owner:
    """A Python object owning a Handle: a context manager whose close()
    (also called when it is collected) ends the handle as above."""

    _handle = None

    def _own(self, ptr, end, parent=None, what=None):
        h = self._handle = Handle(ptr, end, parent, what or type(self).__name__)
        # (a weakref callback, not weakref.finalize: cheaper per sample)
        h.owner_ref = weakref.ref(self, h.abandon)
        if parent is None:
            _roots.add(self)

    @property
    def _ptr(self):
        return self._handle.get()

    @property
    def closed(self):
        return self._handle is None or self._handle.closed

    def close(self):
        if self._handle is not None:
            self._handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def drain(receive):
    """What receive() returns until it returns None (nothing waiting)."""
    while True:
        item = receive()
        if item is None:
            return
        yield item
