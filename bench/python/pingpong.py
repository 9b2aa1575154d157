#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Publish-subscribe ping-pong through the Python package (bindings/python),
the row "floe-python" beside the C row "floe" and the C++ row "floe-cxx":
what a round trip costs from Python, where the interpreter, not floe,
should dominate. The row "floe-python-cffi" makes the same calls straight
through cffi, without the package's objects: the difference is what they
cost, the rest (beside C's row) what the interpreter and cffi cost.

    bench/python/pingpong.py [--quick] [--json] [--sizes 8,64K,...]
                             [--iterations N] [--warmup N]

As bench/pubsub_pingpong.c: two processes pinned to two CPUs busy-poll
each other over services "ping" and "pong" (one message in flight each
way); the first loans a sample, writes the sequence number into its first
8 bytes through the payload memoryview and sends it, the partner receives
it and answers the same way. Half a round trip is one message's latency.
--json prints the rows in bench/bench.h's format (and, with
$BENCH_CDF_DIR, their distributions as bench.h writes them)."""
import argparse
import json
import os
import struct
import sys
import time

import floe

SEQ = struct.Struct("Q")
BYTES = floe.Type("u8", 1, 1)
# bench.h's distribution: points per decade of the tail, decades
CDF_PER_DECADE, CDF_DECADES = 40, 5


def size_arg(text):
    units = {"k": 10, "m": 20, "g": 30}
    text = text.strip().lower()
    shift = units.get(text[-1:], 0)
    return int(text[:-1] if shift else text) << shift


def qos():
    # as bench/pingpong_qos.h: one message in flight per direction
    return {"max_publishers": 1, "max_subscribers": 1,
            "subscriber_max_buffer_size": 2,
            "subscriber_max_borrowed_samples": 1,
            "publisher_max_loaned_samples": 1}


def send_seq(pub, size, seq):
    while True:
        try:
            loan = pub.loan(size)
        except floe.FloeError as e:
            if e.code != floe.lib.FLOE_E_POOL_EMPTY:
                raise
            continue        # the partner has not released the last one
        SEQ.pack_into(loan.payload, 0, seq)
        loan.send()
        return


def recv_seq(sub):
    while True:
        s = sub.receive()
        if s is not None:
            seq = SEQ.unpack_from(s.payload)[0]
            s.release()
            return seq


class Raw:
    """The same ping and pong as send_seq and recv_seq, calling the C
    functions through cffi directly."""

    def __init__(self, pub, sub):
        ffi, lib = floe._lib.ffi, floe.lib
        pub_ptr, sub_ptr = pub._ptr, sub._ptr
        loan_out = ffi.new("floe_sample_mut **")
        sample_out = ffi.new("const floe_sample **")
        u64 = ffi.typeof("uint64_t *")
        empty = lib.FLOE_E_POOL_EMPTY

        def send(size, seq):
            while lib.floe_publisher_loan(pub_ptr, size, loan_out) == empty:
                pass
            ffi.cast(u64, lib.floe_sample_mut_payload(loan_out[0]))[0] = seq
            lib.floe_sample_mut_send(loan_out[0])

        def recv():
            while lib.floe_subscriber_receive(sub_ptr, sample_out) == 0:
                pass
            seq = ffi.cast(u64, lib.floe_sample_payload(sample_out[0]))[0]
            lib.floe_sample_release(sample_out[0])
            return seq
        self.send, self.recv = send, recv


def calls(raw, pub, sub):
    """send(size, seq) and recv() of one way of calling."""
    if raw:
        r = Raw(pub, sub)
        return r.send, r.recv
    return (lambda size, seq: send_seq(pub, size, seq)), \
        (lambda: recv_seq(sub))


def names(size):
    return f"bench/py/ping/{size}", f"bench/py/pong/{size}"


def partner(size, total, ready, raw):
    ping, pong = names(size)
    with floe.Node("bench py pong") as node, \
            node.service(ping, BYTES, mode="open") as ping_svc, \
            node.service(pong, BYTES, mode="open") as pong_svc, \
            ping_svc.subscriber() as sub, \
            pong_svc.publisher(initial_max_slice_len=size) as pub:
        send, recv = calls(raw, pub, sub)
        os.write(ready, b"r")
        for _ in range(total):
            send(size, recv())


def cpus():
    allowed = sorted(os.sched_getaffinity(0))
    return allowed[:2] if len(allowed) >= 2 else [None, None]


def run_size(args, node, size, cpu_b, raw):
    ping, pong = names(size)
    total = args.warmup + args.iterations
    samples = []
    with node.service(ping, BYTES, mode="create", qos=qos()) as ping_svc, \
            node.service(pong, BYTES, mode="create", qos=qos()) as pong_svc, \
            ping_svc.publisher(initial_max_slice_len=size) as pub, \
            pong_svc.subscriber() as sub:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                if cpu_b is not None:
                    os.sched_setaffinity(0, {cpu_b})
                partner(size, total, w, raw)
                status = 0
            finally:
                os._exit(status)    # never into the parent's objects
        os.close(w)
        if os.read(r, 1) != b"r":
            raise RuntimeError("partner did not get ready")
        os.close(r)
        send, recv = calls(raw, pub, sub)
        now = time.perf_counter_ns
        for i in range(total):
            if i == args.warmup:
                start = now()
            t0 = now()
            send(size, i)
            if recv() != i:
                raise RuntimeError(f"pong {i}: wrong sequence")
            if i >= args.warmup:
                samples.append((now() - t0) // 2)
        elapsed = now() - start
        _, status = os.waitpid(pid, 0)
        if status:
            raise RuntimeError(f"partner exited with status {status}")
    return summarise(samples, size, elapsed,
                     "floe-python-cffi" if raw else "floe-python")


def summarise(samples, size, elapsed_ns, system):
    """bench.h's bench_summarise: percentiles and the distribution."""
    samples.sort()
    n = len(samples)
    cdf, above, last = [], 1.0, -1
    for _ in range(CDF_PER_DECADE * CDF_DECADES + 1):
        k = int((1 - above) * n)
        if k >= n - 1:
            break
        if k > last:
            cdf.append((samples[k], k / n))
        last = k
        above *= 10 ** (-1 / CDF_PER_DECADE)
    cdf.append((samples[-1], (n - 1) / n))
    return {"system": system, "pattern": "pingpong",
            "payload_bytes": size, "subscribers": 1,
            "p50_ns": samples[n // 2], "p99_ns": samples[n * 99 // 100],
            "p999_ns": samples[n * 999 // 1000], "max_ns": samples[-1],
            "msgs_per_s": round(2 * n * 1e9 / elapsed_ns) if elapsed_ns
            else 0, "iterations": n}, cdf


def write_cdf(row, cdf):
    """As bench.h's bench_write_cdf, for scripts/bench.sh's plots."""
    d = os.environ.get("BENCH_CDF_DIR")
    if not d:
        return
    path = os.path.join(d, f"{row['system']}-{row['pattern']}-"
                        f"{row['payload_bytes']}.cdf")
    with open(path, "w") as f:
        f.write(f"# {row['system']} {row['pattern']}, {row['payload_bytes']}"
                f" B, {row['iterations']} samples: latency_ns, fraction of "
                "the samples sorted before it\n")
        for ns, frac in cdf:
            f.write(f"{ns} {frac:.9g}\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", action="store_true")
    p.add_argument("--sizes", type=lambda s: [size_arg(x) for x in
                                              s.split(",")])
    p.add_argument("--iterations", type=int)
    p.add_argument("--warmup", type=int)
    args = p.parse_args()
    if args.sizes is None:
        args.sizes = [8, 65536] if args.quick else \
            [8, 65536, 1 << 20, 64 << 20]
    # a Python round trip is tens of times C's: fewer of them take as
    # long as C's rows do, and are enough for p99.9
    if args.iterations is None:
        args.iterations = 2000 if args.quick else 20000
    if args.warmup is None:
        args.warmup = 200 if args.quick else 2000
    if min(args.sizes) < 8 or args.iterations < 1:
        p.error("sizes must be >= 8 bytes, iterations >= 1")
    # a domain of our own, as bench.h's bench_own_domain
    os.environ.setdefault("FLOE_DOMAIN", f"bench{os.getpid()}")
    cpu_a, cpu_b = cpus()
    if cpu_a is not None:
        os.sched_setaffinity(0, {cpu_a})
    table = sys.stderr if args.json else sys.stdout
    rows = []
    print(f"{'system':<16} {'payload':>9} {'p50':>8} {'p99':>8} "
          f"{'p99.9':>8} {'max':>10}", file=table)
    with floe.Node("bench py ping") as node:
        for raw in (False, True):
            for size in args.sizes:
                row, cdf = run_size(args, node, size, cpu_b, raw)
                write_cdf(row, cdf)
                rows.append(row)
                print(f"{row['system']:<16} {size:>9} {row['p50_ns']:>8} "
                      f"{row['p99_ns']:>8} {row['p999_ns']:>8} "
                      f"{row['max_ns']:>10}", file=table)
    if args.json:
        json.dump(rows, sys.stdout, indent=1)
        print()


if __name__ == "__main__":
    main()
