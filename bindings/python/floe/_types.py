# SPDX-License-Identifier: MIT
"""Payload types and service options shared by every pattern."""
import ctypes
from collections import namedtuple

from ._lib import cstr, ffi


class Type(namedtuple("Type", "name size align")):
    """A payload type as every language describes it: processes open a
    service when name, size and alignment agree."""

    @classmethod
    def of(cls, layout, name):
        """The size and alignment of a ctypes type or a NumPy dtype."""
        if hasattr(layout, "itemsize"):           # NumPy dtype
            return cls(name, layout.itemsize, layout.alignment)
        return cls(name, ctypes.sizeof(layout), ctypes.alignment(layout))


#: slices of bytes, as the floe tool's byte services
BYTES = Type("floe.bytes", 1, 1)


class Keep:
    """Holds the C memory (strings, structs) behind a call's options."""

    def __init__(self):
        self._items = []

    def __call__(self, obj):
        self._items.append(obj)
        return obj

    def str(self, text):
        return self(ffi.new("char[]", cstr(text)))

    def type(self, ctype, typ):
        """Fill a struct floe_type from a Type."""
        ctype.name = self.str(typ.name)
        ctype.size = typ.size
        ctype.align = typ.align

    def attributes(self, opts, attributes):
        """opts.attributes and num_attributes from a dict."""
        items = list((attributes or {}).items())
        arr = self(ffi.new("struct floe_attribute[]", max(len(items), 1)))
        for i, (k, v) in enumerate(items):
            arr[i].key = self.str(k)
            arr[i].value = self.str(v)
        opts.attributes = arr
        opts.num_attributes = len(items)

    def service_opts(self, ctype_name, qos_ctype_name, qos_init, qos,
                     attributes, perm):
        """A pattern's options struct with its QoS (from @qos_init's
        defaults, None: no defaults, as an opener's demands),
        attributes and permission bits."""
        opts = self(ffi.new(ctype_name + " *"))
        opts.qos = self.qos(qos_ctype_name, qos_init, qos)
        self.attributes(opts, attributes)
        opts.mode = perm
        return opts

    def qos(self, ctype_name, init, values):
        """A QoS struct with defaults from @init, then the fields given in
        the dict @values (unknown names: AttributeError)."""
        if values is None:
            return ffi.NULL
        qos = self(ffi.new(ctype_name + " *"))
        if init is not None:
            init(qos)
        for k, v in values.items():
            if not hasattr(qos, k):
                raise AttributeError(f"{ctype_name} has no field {k!r}")
            setattr(qos, k, v)
        return qos


def choice(options, value, what):
    """options[value], or ValueError naming the choices."""
    try:
        return options[value]
    except KeyError:
        names = ", ".join(repr(k) for k in options)
        raise ValueError(f"{what} must be one of {names}") from None


def struct_dict(cdata):
    """A C struct's fields as a dict (nested structs as dicts)."""
    out = {}
    for name, _ in ffi.typeof(cdata).fields:
        v = getattr(cdata, name)
        if isinstance(v, ffi.CData):
            kind = ffi.typeof(v).kind
            if kind == "array" and ffi.typeof(v).item.cname == "char":
                v = ffi.string(v).decode(errors="replace")
            elif kind == "struct":
                v = struct_dict(v)
        out[name] = v
    return out
