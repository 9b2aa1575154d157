# SPDX-License-Identifier: MIT
"""The C library through cffi in ABI mode: the declarations are read from
floe.h at import (nothing is compiled, so installing needs no compiler),
the shared library is opened with dlopen.

Where they are found:
  floe.h         $FLOE_HEADER, else the copy installed beside this package,
                 else the source tree's include/floe.h
  libfloe.so.0   $FLOE_LIBRARY, else <prefix>/lib (installed: the package
                 sits in <prefix>/lib/pythonX.Y/dist-packages), else the
                 build tree's build/, else the dynamic linker's search path
"""
import os
import re

import cffi

_here = os.path.dirname(os.path.abspath(__file__))
# bindings/python/floe -> the source tree; <prefix>/lib/python3.X/dist-packages/floe -> <prefix>/lib
_up3 = os.path.normpath(os.path.join(_here, "..", "..", ".."))


def _first_existing(candidates):
    for path in candidates:
        if path and os.path.exists(path):
            return path
    return None


def _declarations(header):
    """floe.h as cffi's cdef takes it: no preprocessor lines but integer
    #defines, no C++ guards."""
    out = []
    in_cplusplus = False
    with open(header, encoding="utf-8") as f:
        for line in f:
            s = line.strip()
            if s.startswith("#ifdef __cplusplus"):
                in_cplusplus = True
            elif in_cplusplus:
                in_cplusplus = not s.startswith("#endif")
            elif s.startswith("#"):
                if re.match(r"#define\s+\w+\s+\d+$", s):
                    out.append(s + "\n")
            else:
                out.append(line)
    return "".join(out)


def _open():
    header = _first_existing([
        os.environ.get("FLOE_HEADER"),
        os.path.join(_here, "floe.h"),
        os.path.join(_up3, "include", "floe.h"),
    ])
    if header is None:
        raise ImportError("floe: floe.h not found (set FLOE_HEADER)")
    ffi = cffi.FFI()
    ffi.cdef(_declarations(header))
    library = _first_existing([
        os.environ.get("FLOE_LIBRARY"),
        os.path.join(_up3, "libfloe.so.0"),
        os.path.join(_up3, "build", "libfloe.so.0"),
    ]) or "libfloe.so.0"
    try:
        return ffi, ffi.dlopen(library)
    except OSError as e:
        raise ImportError(f"floe: cannot load {library}: {e} "
                          "(set FLOE_LIBRARY)") from e


ffi, lib = _open()
_ERROR_NAMES = {getattr(lib, n): n for n in dir(lib) if n.startswith("FLOE_E_")}


def error_name(code):
    """"FLOE_E_EXISTS" for FLOE_E_EXISTS's value."""
    return _ERROR_NAMES.get(code, "FLOE_E_UNKNOWN")


class FloeError(Exception):
    """A floe call failed: .code is the (negative) floe_error value,
    str() floe_strerror's text."""

    def __init__(self, code, context=None):
        self.code = code
        self.name = error_name(code)
        text = ffi.string(lib.floe_strerror(code)).decode()
        super().__init__(f"{context}: {text}" if context else text)


class ClosedError(ValueError):
    """The object was closed (or released, or sent) already."""


def check(rc, context=None):
    """Raise FloeError for a negative result, else return it."""
    if rc < 0:
        raise FloeError(rc, context)
    return rc


def cstr(text):
    """A Python str as a C string argument (kept alive by the caller)."""
    return text.encode() if isinstance(text, str) else text


def pystr(chars):
    return ffi.string(chars).decode(errors="replace")
