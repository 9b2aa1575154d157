// SPDX-License-Identifier: MIT
/*
 * Publish-subscribe ping-pong through the C++ API (include/floe.hpp), the
 * row "floe-cxx" beside pubsub_pingpong's C row "floe": what the RAII
 * owners and exceptions cost on top of the C calls (nothing measurable is
 * the goal).
 *
 *   cxx_pingpong [--quick] [--json] [--sizes 8,64K,...]
 *                [--iterations N] [--warmup N]
 *
 * As pubsub_pingpong: two processes pinned to two CPUs busy-poll each
 * other over services "ping" and "pong" (one message in flight each way);
 * the first loans a sample, writes the sequence number into its first
 * cache line and sends it, the partner receives it and answers the same
 * way. Half a round trip is one message's latency. --json prints the rows
 * (bench.h's format) on stdout, the table then going to stderr.
 */
#include <cstring>
#include <string>
#include <sys/wait.h>

#include <floe.hpp>

#include "bench.h"
#include "pingpong_qos.h"

namespace {

struct options {
	bench_opts b;
	bool quick = false;
};

bench_cpus cpus;

floe::service_config config(bool create)
{
	floe::service_config cfg{ "u8", {}, {}, 0 };

	if (create) {
		floe_pubsub_qos q;

		bench_pingpong_qos(&q);
		cfg.qos = q;
	}
	return cfg;
}

floe_publisher_opts publisher_opts(std::uint64_t size)
{
	floe_publisher_opts po;

	floe_publisher_opts_init(&po);
	po.initial_max_slice_len = size;
	return po;
}

void send_seq(floe::publisher<std::uint8_t> &pub, std::uint64_t size,
	      std::uint64_t seq)
{
	for (;;) {
		try {
			auto s = pub.loan_slice(size);
			std::memcpy(s.data(), &seq, sizeof(seq));
			s.send();
			return;
		} catch (const floe::error &e) {
			// the partner has not released the last one yet
			if (e.code().value() != FLOE_E_POOL_EMPTY)
				throw;
			bench_relax(&cpus);
		}
	}
}

std::uint64_t recv_seq(floe::subscriber<std::uint8_t> &sub)
{
	std::uint64_t seq;

	for (;;) {
		if (auto s = sub.receive()) {
			std::memcpy(&seq, s->data(), sizeof(seq));
			return seq;
		}
		bench_relax(&cpus);
	}
}

std::string name(const char *dir, std::uint64_t size)
{
	return std::string("bench/cxx/") + dir + "/" + std::to_string(size);
}

/* The partner: answer every ping with a pong; says "ready" on @ready. */
int partner(const options &o, std::uint64_t size, int ready)
{
	try {
		floe::node node("bench cxx pong");
		floe::service<std::uint8_t> ping(node, name("ping", size),
						 config(false), floe::mode::open);
		floe::service<std::uint8_t> pong(node, name("pong", size),
						 config(false), floe::mode::open);
		floe::subscriber<std::uint8_t> sub(ping);
		auto po = publisher_opts(size);
		floe::publisher<std::uint8_t> pub(pong, &po);

		if (write(ready, "r", 1) != 1)
			return 1;
		for (long i = 0; i < o.b.warmup + o.b.iterations; i++)
			send_seq(pub, size, recv_seq(sub));
	} catch (const floe::error &e) {
		std::fprintf(stderr, "partner: %s\n", e.what());
		return 1;
	}
	return 0;
}

int run_size(const options &o, floe::node &node, std::uint64_t size,
	     std::vector<std::uint64_t> &samples, bench_result &r)
{
	floe::service<std::uint8_t> ping(node, name("ping", size), config(true),
					 floe::mode::create);
	floe::service<std::uint8_t> pong(node, name("pong", size), config(true),
					 floe::mode::create);
	auto po = publisher_opts(size);
	floe::publisher<std::uint8_t> pub(ping, &po);
	floe::subscriber<std::uint8_t> sub(pong);
	long total = o.b.warmup + o.b.iterations;
	std::uint64_t start = 0;
	int fds[2], status;
	char c;

	if (pipe(fds))
		return -1;
	pid_t pid = bench_fork_partner(cpus.b);
	if (pid < 0)
		return -1;
	if (pid == 0) // never unwinds into the parent's objects
		_exit(partner(o, size, fds[1]));
	close(fds[1]);
	if (read(fds[0], &c, 1) != 1) {
		close(fds[0]);
		waitpid(pid, nullptr, 0);
		return -1;
	}
	close(fds[0]);
	for (long i = 0; i < total; i++) {
		if (i == o.b.warmup)
			start = bench_now_ns();
		std::uint64_t t0 = bench_now_ns();
		send_seq(pub, size, (std::uint64_t)i);
		if (recv_seq(sub) != (std::uint64_t)i) {
			std::fprintf(stderr, "pong %ld: wrong sequence\n", i);
			return -1;
		}
		if (i >= o.b.warmup)
			samples[(std::size_t)(i - o.b.warmup)] =
				(bench_now_ns() - t0) / 2;
	}
	bench_summarise(&r, samples.data(), o.b.iterations,
			2.0 * (double)o.b.iterations, bench_now_ns() - start);
	r.system = "floe-cxx";
	r.pattern = "pingpong";
	r.subscribers = 1;
	r.payload_bytes = size;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

void usage(const char *argv0)
{
	std::fprintf(stderr, "usage: %s [--quick] [--json] [--sizes LIST] "
		     "[--iterations N] [--warmup N]\n", argv0);
	std::exit(2);
}

} // namespace

int main(int argc, char **argv)
{
	static const std::uint64_t full[] = { 8, 65536, 1 << 20, 64 << 20 };
	static const std::uint64_t quick[] = { 8, 65536 };
	options o;
	std::vector<bench_result> rows;
	FILE *table;
	int failed = 0;

	std::memset(&o.b, 0, sizeof(o.b));
	bench_set_sizes(&o.b, full, 4);
	o.b.iterations = 100000;
	o.b.warmup = 10000;
	for (int i = 1; i < argc; i++) {
		if (!std::strcmp(argv[i], "--quick")) {
			bench_set_sizes(&o.b, quick, 2);
			o.b.iterations = 2000;
			o.b.warmup = 200;
		} else if (!bench_option(&o.b, argc, argv, &i, 8)) {
			usage(argv[0]);
		}
	}
	if (o.b.nsizes < 1 || o.b.iterations < 1 || o.b.warmup < 0)
		usage(argv[0]);
	table = o.b.json ? stderr : stdout;
	bench_own_domain();
	cpus = bench_choose_cpus();
	bench_pin(cpus.a);
	std::vector<std::uint64_t> samples((std::size_t)o.b.iterations);
	try {
		floe::node node("bench cxx ping");

		std::fprintf(table, "%-10s %9s %8s %8s %8s %10s\n", "system",
			     "payload", "p50", "p99", "p99.9", "max");
		for (int i = 0; i < o.b.nsizes; i++) {
			bench_result r{};
			char buf[32];

			if (run_size(o, node, o.b.sizes[i], samples, r)) {
				failed = 1;
				break;
			}
			std::fprintf(table, "%-10s %9s %8llu %8llu %8llu %10llu\n",
				     r.system, bench_human(r.payload_bytes, buf,
							   sizeof(buf)),
				     (unsigned long long)r.p50,
				     (unsigned long long)r.p99,
				     (unsigned long long)r.p999,
				     (unsigned long long)r.max);
			rows.push_back(r);
		}
	} catch (const floe::error &e) {
		std::fprintf(stderr, "cxx_pingpong: %s\n", e.what());
		failed = 1;
	}
	if (o.b.json)
		bench_json(stdout, rows.data(), (int)rows.size());
	return failed;
}
