# SPDX-License-Identifier: MIT
"""The blackboard: typed key -> value entries, one writer, many readers."""
from collections import namedtuple

from ._handle import Owner
from ._lib import check, cstr, ffi, lib
from ._types import Keep
from .event import collect_ids


class Entry(namedtuple("Entry", "key type initial", defaults=(None,))):
    """An entry: its key, its Type and (create only) its initial value
    (bytes-like of type.size bytes, None for zeros)."""


class Blackboard(Owner):
    """create=True: a new blackboard with @entries; else open an existing
    one, checking @entries (may be None) exist with those types. qos: a
    dict of struct floe_blackboard_qos fields."""

    def __init__(self, node, name, entries=None, create=False, qos=None,
                 attributes=None, perm=0):
        keep = Keep()
        entries = list(entries or ())
        init = lib.floe_blackboard_qos_init if create else None
        opts = keep.service_opts("struct floe_blackboard_opts",
                                 "struct floe_blackboard_qos", init, qos,
                                 attributes, perm)
        arr = keep(ffi.new("struct floe_blackboard_entry[]",
                           max(len(entries), 1)))
        for i, e in enumerate(entries):
            arr[i].key = e.key
            arr[i].type_name = keep.str(e.type.name)
            arr[i].size = e.type.size
            arr[i].align = e.type.align
            if e.initial is not None:
                arr[i].initial = keep(ffi.from_buffer(e.initial))
        opts.entries = arr
        opts.num_entries = len(entries)
        out = ffi.new("floe_blackboard **")
        fn = lib.floe_blackboard_create if create else lib.floe_blackboard_open
        check(fn(node._ptr, cstr(name), opts, out), f"blackboard {name!r}")
        self.node = node
        self._own(out[0], lib.floe_blackboard_close, node._handle,
                  f"blackboard {name!r}")

    @property
    def name(self):
        return ffi.string(lib.floe_blackboard_name(self._ptr)).decode()

    @property
    def keys(self):
        """The keys in creation order (entry i fires event id i)."""
        key = ffi.new("uint64_t *")
        out = []
        for i in range(lib.floe_blackboard_num_entries(self._ptr)):
            check(lib.floe_blackboard_key(self._ptr, i, key))
            out.append(key[0])
        return out

    def writer(self):
        return Writer(self)

    def reader(self):
        return Reader(self)


def _bb_port(owner, bb, create, end, what):
    out = ffi.new(ffi.typeof(end).args[0].cname + "*")
    check(create(bb._ptr, out), what)
    owner.blackboard = bb           # ports go before their blackboard
    owner._own(out[0], end, bb._handle, what)


class Writer(Owner):
    def __init__(self, blackboard):
        _bb_port(self, blackboard, lib.floe_writer_create,
                 lib.floe_writer_destroy, "writer")
        self._loans = {}        # key -> views of its loaned slot

    def write(self, key, value):
        """Copy @value (bytes-like, exactly the entry's size) into entry
        @key and publish it."""
        buf = ffi.from_buffer(value)
        check(lib.floe_writer_write(self._ptr, key, buf, len(buf)),
              f"write key {key}")

    def loan(self, key, size):
        """Zero-copy: a writable view of entry @key's unpublished slot
        (@size: the entry's size), valid until publish(key)."""
        out = ffi.new("void **")
        check(lib.floe_writer_loan(self._ptr, key, out), f"loan key {key}")
        view = self._handle.view(out[0], size, False)
        self._loans.setdefault(key, []).append(view)
        return view

    def publish(self, key):
        """Publish the loaned slot of @key; its views become unusable."""
        check(lib.floe_writer_publish(self._ptr, key), f"publish key {key}")
        for view in self._loans.pop(key, ()):
            view.release()


class Reader(Owner):
    def __init__(self, blackboard):
        _bb_port(self, blackboard, lib.floe_reader_create,
                 lib.floe_reader_destroy, "reader")

    def read(self, key, size):
        """Entry @key's latest value (@size: the entry's size), as bytes,
        and its generation (writes since creation)."""
        buf = ffi.new("char[]", size)
        gen = ffi.new("uint64_t *")
        check(lib.floe_reader_read(self._ptr, key, buf, size, gen),
              f"read key {key}")
        return ffi.buffer(buf)[:], gen[0]

    def generation(self, key):
        gen = ffi.new("uint64_t *")
        check(lib.floe_reader_generation(self._ptr, key, gen))
        return gen[0]

    def changed(self, key):
        return check(lib.floe_reader_changed(self._ptr, key)) == 1

    def wait(self, timeout=0.0):
        """The keys written since the last wait, waiting up to @timeout
        seconds (None: forever) for the first; empty if none."""
        ns = 2**64 - 1 if timeout is None else int(timeout * 1e9)
        ptr = self._ptr
        return collect_ids(
            lambda cb, ctx: lib.floe_reader_wait(ptr, ns, cb, ctx))

    @property
    def listener(self):
        """The reader's listener (owned by the reader), for a Waitset."""
        return lib.floe_reader_listener(self._ptr)
