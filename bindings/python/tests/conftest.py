# SPDX-License-Identifier: MIT
"""Every test in a floe domain of its own on the shm backend, and no
shared memory of it left behind afterwards (as tests/run-host.sh checks
for the C tests)."""
import gc
import glob
import os

import pytest

import floe


@pytest.fixture
def domain(request, monkeypatch):
    name = f"py{os.getpid() % 100000}x{abs(hash(request.node.nodeid)) % 10**6}"
    monkeypatch.setenv("FLOE_DOMAIN", name)
    monkeypatch.setenv("FLOE_BACKEND", os.environ.get("FLOE_BACKEND", "shm"))
    yield name
    gc.collect()    # what reference cycles (tracebacks) still hold
    left = glob.glob(f"/dev/shm/{name}.*")
    for f in left:
        os.unlink(f)
    assert not left, f"shared memory left behind: {left}"


@pytest.fixture
def node(domain):
    with floe.Node("pytest") as n:
        yield n
