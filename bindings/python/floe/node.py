# SPDX-License-Identifier: MIT
"""Nodes, services of every pattern by name, and discovery."""
from ._handle import Owner
from ._lib import check, cstr, ffi, lib, pystr
from ._types import Keep, choice, struct_dict

_BACKENDS = {None: lib.FLOE_BACKEND_AUTO, "auto": lib.FLOE_BACKEND_AUTO,
             "kmod": lib.FLOE_BACKEND_KMOD, "shm": lib.FLOE_BACKEND_SHM}
#: how a service is got (the suffix of its C function)
MODES = ("open", "create", "open_or_create")


class _Found:
    """What a discovery walk found, and what went wrong in the callback."""

    def __init__(self):
        self.items = []
        self.error = None


def _collect(cb_type):
    """A C callback adding each info struct, as a dict, to the _Found
    behind ctx; an exception stops the walk."""
    @ffi.callback(cb_type)
    def collect(info, ctx):
        found = ffi.from_handle(ctx)
        try:
            found.items.append(struct_dict(info[0]))
        except Exception as e:
            found.error = e
            return 1
        return 0
    return collect


_collect_node = _collect("int(const struct floe_node_info *, void *)")
_collect_service = _collect("int(const struct floe_service_info *, void *)")
_collect_port = _collect("int(const struct floe_port_info *, void *)")


def get_service(node, kind, mode, name, opts, keep):
    """floe_<kind>_<mode>(node, name, opts): the floe_service handle."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    fn = getattr(lib, f"floe_{kind}_{mode}")
    out = keep(ffi.new("floe_service **"))
    check(fn(node._ptr, cstr(name), opts, out), f"{kind} {name!r}")
    return out[0]


class Node(Owner):
    """A process's membership in a floe domain (backend: "auto", "kmod"
    or "shm"; domain: None for $FLOE_DOMAIN or the configured one)."""

    def __init__(self, name, backend=None, domain=None):
        keep = Keep()
        opts = ffi.new("struct floe_node_opts *")
        lib.floe_node_opts_init(opts)
        opts.backend = choice(_BACKENDS, backend, "backend")
        if domain is not None:
            opts.domain = keep.str(domain)
        out = ffi.new("floe_node **")
        check(lib.floe_node_create(cstr(name), opts, out), "node")
        self._own(out[0], lib.floe_node_destroy, what="node")

    @property
    def id(self):
        return lib.floe_node_id(self._ptr)

    @property
    def backend(self):
        return pystr(lib.floe_backend_name(lib.floe_node_backend(self._ptr)))

    def cleanup_dead(self):
        """Remove what dead nodes left; returns how many were removed."""
        return check(lib.floe_node_cleanup_dead(self._ptr))

    def _list(self, fn, cb):
        found = _Found()
        check(fn(self._ptr, cb, ffi.new_handle(found)), "discovery")
        if found.error is not None:
            raise found.error
        return found.items

    def nodes(self):
        """Every node of the domain, as dicts (id, pid, state, name)."""
        return self._list(lib.floe_node_list, _collect_node)

    def services(self):
        """Every readable service of the domain, as dicts (the fields of
        struct floe_service_info)."""
        return self._list(lib.floe_service_list, _collect_service)

    def ports(self):
        """Every port of every readable service, as dicts."""
        return self._list(lib.floe_port_list, _collect_port)

    # services by pattern; defined in their modules
    def service(self, name, type, **kw):
        """A publish-subscribe service of payload Type @type."""
        from .pubsub import Service
        return Service(self, name, type, **kw)

    def event(self, name, **kw):
        from .event import EventService
        return EventService(self, name, **kw)

    def request_response(self, name, request_type, response_type, **kw):
        from .rr import RequestResponseService
        return RequestResponseService(self, name, request_type,
                                      response_type, **kw)

    def blackboard(self, name, entries=None, create=False, **kw):
        from .blackboard import Blackboard
        return Blackboard(self, name, entries, create, **kw)
