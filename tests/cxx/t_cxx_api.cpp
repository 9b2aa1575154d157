// SPDX-License-Identifier: MIT
/*
 * The C++ API (include/floe.hpp), in one process: typed and slice loans
 * through publish-subscribe, ownership (moves, destructors releasing
 * samples and discarding loans so that ports can go), errors as
 * floe::error with floe_strerror's text, a service created through the C
 * API opened by type name (and refused for a wrong size or name), events,
 * request-response streams, the blackboard, the waitset (an exception in
 * its callback reaches the caller) and discovery. Built with g++ and
 * clang++, as C++17 and C++20, and under ASan (make check-bindings).
 */
#include <cstring>
#include <string>

#include <floe.hpp>

#include "tap.h"

using namespace std::chrono_literals;

struct position {
	double x, y;
	std::uint32_t id;
};

static void pubsub(floe::node &node)
{
	floe::service_config cfg{ "t.Position", {}, { { "unit", "m" } }, 0 };
	floe::service<position> svc(node, "cxx/pos", cfg, floe::mode::create);
	floe::subscriber<position> sub(svc);
	floe::publisher<position> pub(svc);

	tap_ok(svc.name() == "cxx/pos", "service name");
	tap_ok(svc.attribute("unit").value_or("") == "m", "attribute read back");
	tap_ok(!svc.attribute("colour"), "missing attribute is empty");
	tap_ok(!sub.receive(), "nothing received before a send");

	auto loan = pub.loan();
	*loan = position{ 1.5, -2.0, 7 };
	tap_eq(loan.send(), 1, "typed loan reaches the subscriber");
	tap_ok(!loan, "a sent loan is empty");

	auto s = sub.receive();
	tap_ok(s && (*s)->x == 1.5 && (*s)->y == -2.0 && (*s)->id == 7,
	       "typed sample read in place");
	tap_eq((long long)s->publisher_id(), (long long)pub.id(), "publisher id");
	tap_eq((long long)s->sequence(), 0LL, "first sequence number");

	// moving a sample moves ownership; the moved-from one releases nothing
	floe::sample<position> moved = std::move(*s);
	tap_ok(moved && !*s, "a moved sample owns, the source does not");
	moved.release();

	// a loan destroyed unsent is discarded: the loan limit (2) is not hit
	for (int i = 0; i < 5; i++) {
		auto l = pub.loan();
		l->id = 99;
	}
	tap_ok(!sub.receive(), "discarded loans deliver nothing");
	tap_eq(pub.send_copy(position{ 3, 4, 8 }), 1, "send_copy");
	{
		auto r = sub.receive();
		tap_ok(r && r->data()->id == 8, "copied sample received");
	} // released here, so the subscriber can go before the service

	try {
		floe::service<position> again(node, "cxx/pos", cfg,
					      floe::mode::create);
		tap_ok(0, "create of an existing service throws");
	} catch (const floe::error &e) {
		tap_eq(e.code().value(), (int)FLOE_E_EXISTS,
		       "create of an existing service: FLOE_E_EXISTS");
		tap_ok(std::strstr(e.what(), floe_strerror(FLOE_E_EXISTS)) != nullptr,
		       "what() carries floe_strerror's text: %s", e.what());
		tap_ok(e.code().category().name() == std::string("floe"),
		       "error category is floe's");
	}
}

static void slices(floe::node &node)
{
	floe::service_config cfg{ "u32", {}, {}, 0 };
	floe_publisher_opts popts;

	floe_publisher_opts_init(&popts);
	popts.initial_max_slice_len = 64;
	floe::service<std::uint32_t> svc(node, "cxx/slice", cfg);
	floe::subscriber<std::uint32_t> sub(svc);
	floe::publisher<std::uint32_t> pub(svc, &popts);

	auto loan = pub.loan_slice(40);
	floe::span<std::uint32_t> out = loan.slice();
	tap_eq((int)out.size(), 40, "slice loan has its length");
	for (std::size_t i = 0; i < out.size(); i++)
		out[i] = (std::uint32_t)(i * 3 + 1);
	loan.send();
	auto s = sub.receive();
	bool same = s && s->len() == 40 && s->payload_size() == 160;
	if (s)
		for (std::size_t i = 0; i < s->slice().size(); i++)
			same = same && s->slice()[i] == i * 3 + 1;
	tap_ok(same, "slice received with every element");
	try {
		pub.loan_slice(65);
		tap_ok(0, "too long a slice throws");
	} catch (const floe::error &e) {
		tap_eq(e.code().value(), (int)FLOE_E_TOO_LARGE,
		       "too long a slice: FLOE_E_TOO_LARGE");
	}
}

/* A service made by C with a type name and layout is opened from C++ by
 * the same name, size and alignment; anything else is refused. */
static void cross_language(floe::node &node)
{
	struct floe_service_opts o = {};
	floe_service *c_svc = nullptr;

	o.type = { "t.Position", sizeof(position), alignof(position) };
	tap_call(floe_service_create(node.get(), "cxx/from-c", &o, &c_svc),
		 "C creates the service");
	{
		floe::service<position> svc(node, "cxx/from-c",
					    { "t.Position", {}, {}, 0 },
					    floe::mode::open);
		tap_ok(1, "C++ opens it by type name");
	}
	try {
		floe::service<double> svc(node, "cxx/from-c",
					  { "t.Position", {}, {}, 0 },
					  floe::mode::open);
		tap_ok(0, "another size is refused");
	} catch (const floe::error &e) {
		tap_eq(e.code().value(), (int)FLOE_E_TYPE_MISMATCH,
		       "another size: FLOE_E_TYPE_MISMATCH");
	}
	try {
		floe::service<position> svc(node, "cxx/from-c",
					    { "t.Other", {}, {}, 0 },
					    floe::mode::open);
		tap_ok(0, "another type name is refused");
	} catch (const floe::error &e) {
		tap_eq(e.code().value(), (int)FLOE_E_TYPE_MISMATCH,
		       "another type name: FLOE_E_TYPE_MISMATCH");
	}
	floe_service_close(c_svc);
}

static void events(floe::node &node)
{
	floe::event_service svc(node, "cxx/event");
	floe::listener l(svc);
	floe::notifier n(svc);

	tap_ok(l.try_wait().empty(), "no event yet");
	n.notify(9);
	n.notify(2);
	n.notify(9);
	auto ids = l.timed_wait(5s);
	tap_ok(ids == std::vector<std::uint64_t>({ 2, 9 }),
	       "each fired id once, increasing");
	tap_ok(l.timed_wait(1ms).empty(), "a timed wait that passes is empty");
	try {
		n.notify(svc.qos().event_id_max + 1);
		tap_ok(0, "an id beyond event_id_max throws");
	} catch (const floe::error &e) {
		tap_eq(e.code().value(), (int)FLOE_E_INVALID,
		       "id beyond event_id_max: FLOE_E_INVALID");
	}
	tap_ok(l.fd() >= 0, "listener has a descriptor");
}

struct ask {
	std::uint64_t n;
};

static void request_response(floe::node &node)
{
	floe::rr_config cfg{ "t.Ask", "u64", {}, {}, 0 };
	floe::rr_service<ask, std::uint64_t> svc(node, "cxx/rr", cfg);
	floe::server<ask, std::uint64_t> srv(svc);
	floe::client<ask, std::uint64_t> cli(svc);

	auto req = cli.loan();
	req->n = 3;
	auto pending = req.send();
	auto active = srv.receive();
	tap_ok(active && (*active)->n == 3, "server reads the request");
	tap_eq((long long)active->client_id(), (long long)cli.id(), "client id");
	for (std::uint64_t i = 0; i < (*active)->n; i++) {
		auto r = active->loan();
		*r = 100 + i;
		r.send();
	}
	active->drop(); // ends the stream
	std::vector<std::uint64_t> got;
	for (int spins = 0; !pending.ended() && spins < 1000000; spins++)
		if (auto r = pending.receive())
			got.push_back(**r);
	tap_ok(pending.ended(), "stream ends after the drop");
	tap_ok(got == std::vector<std::uint64_t>({ 100, 101, 102 }),
	       "the stream in order");

	// a dropped pending response: the server sees it disconnected
	auto p2 = cli.send_copy(ask{ 1 });
	auto a2 = srv.receive();
	p2.drop();
	tap_ok(a2 && !a2->is_connected(), "server sees the drop");
}

/* A request refused for the active limit stays loaned (sent later or
 * discarded by its destructor: ASan sees any double end). */
static void active_limit(floe::node &node)
{
	floe::rr_config cfg{ "t.Ask", "u64", {}, {}, 0 };
	struct floe_rr_qos qos;

	floe_rr_qos_init(&qos);
	qos.max_active_requests_per_client = 1;
	cfg.qos = qos;
	floe::rr_service<ask, std::uint64_t> svc(node, "cxx/rr-limit", cfg,
						 floe::mode::create);
	floe::server<ask, std::uint64_t> srv(svc);
	floe::client<ask, std::uint64_t> cli(svc);
	auto first = cli.send_copy(ask{ 1 });
	auto req = cli.loan();

	req->n = 2;
	try {
		req.send();
		tap_ok(0, "a second active request throws");
	} catch (const floe::error &e) {
		tap_eq(e.code().value(), (int)FLOE_E_ACTIVE_LIMIT,
		       "a second active request: FLOE_E_ACTIVE_LIMIT");
	}
	tap_ok(req->n == 2, "the refused request stays loaned");
	first.drop();
	if (auto a = srv.receive())
		a->drop(); // ends the first stream: its place is free again
	bool sent = false;
	for (int i = 0; i < 1000 && !sent; i++) {
		try {
			auto p = req.send();
			sent = true;
		} catch (const floe::error &e) {
			if (e.code().value() != FLOE_E_ACTIVE_LIMIT)
				break;
		}
	}
	tap_ok(sent, "sent once the first stream ended");
}

static void blackboard(floe::node &node)
{
	const double initial = 0.5;
	floe::blackboard_config cfg;

	cfg.entries = { floe::entry<double>(1, "f64", &initial),
			floe::entry<std::uint32_t>(2, "u32") };
	floe::blackboard bb(node, "cxx/bb", cfg, floe::mode::create);
	floe::writer w(bb);
	floe::reader r(bb);

	tap_ok(bb.keys() == std::vector<std::uint64_t>({ 1, 2 }), "keys");
	tap_ok(r.read<double>(1) == 0.5, "initial value");
	w.write(1, 2.25);
	std::uint64_t gen = 0;
	tap_ok(r.read<double>(1, &gen) == 2.25 && gen == 1, "written value");
	w.loan<std::uint32_t>(2) = 77;
	w.publish(2);
	auto keys = r.wait(1s);
	tap_ok(keys == std::vector<std::uint64_t>({ 1, 2 }), "changed keys");
	tap_ok(r.read<std::uint32_t>(2) == 77, "loaned value published");
	try {
		r.read<double>(5);
		tap_ok(0, "unknown key throws");
	} catch (const floe::error &e) {
		tap_eq(e.code().value(), (int)FLOE_E_NO_KEY, "FLOE_E_NO_KEY");
	}
	try {
		r.read<std::uint64_t>(2);
		tap_ok(0, "wrong size throws");
	} catch (const floe::error &e) {
		tap_eq(e.code().value(), (int)FLOE_E_TYPE_MISMATCH,
		       "wrong size: FLOE_E_TYPE_MISMATCH");
	}
}

static void waitset(floe::node &node)
{
	floe::event_service svc(node, "cxx/ws");
	floe::listener l(svc);
	floe::notifier n(svc);
	floe::waitset ws;
	int la = ws.attach(l);
	int notified = 0;

	n.notify(4);
	int rc = ws.run([&](int a, floe_trigger t) {
		if (a == la && t == FLOE_TRIGGER_NOTIFIED) {
			notified++;
			l.try_wait();
			return 42;
		}
		return 0;
	});
	tap_eq(rc, 42, "run returns the callback's value");
	tap_eq(notified, 1, "listener reported");
	ws.attach_interval(1ms);
	try {
		ws.run([](int, floe_trigger) -> int {
			throw std::runtime_error("from the callback");
		});
		tap_ok(0, "exception in callback reaches run's caller");
	} catch (const std::runtime_error &e) {
		tap_ok(std::string(e.what()) == "from the callback",
		       "exception in callback reaches run's caller");
	}
	tap_ok(ws.run_once(0ns, [](int, floe_trigger) { return 0; }) >= 0,
	       "run_once after an exception");
}

static void discovery(floe::node &node)
{
	floe::service<std::uint8_t> svc(node, "cxx/disc", { "u8", {}, {}, 0 });
	floe::publisher<std::uint8_t> pub(svc);
	bool found = false, port = false, self = false;

	for (const auto &s : node.services())
		found = found || (std::string(s.name) == "cxx/disc" &&
				  s.publishers == 1);
	for (const auto &p : node.ports())
		port = port || p.id == pub.id();
	for (const auto &n : node.nodes())
		self = self || n.id == node.id();
	tap_ok(found, "service listed with its publisher");
	tap_ok(port, "publisher listed among the ports");
	tap_ok(self, "own node listed");
}

int main()
{
	tap_init(120);
	floe::node node("t_cxx_api");

	pubsub(node);
	slices(node);
	cross_language(node);
	events(node);
	request_response(node);
	active_limit(node);
	blackboard(node);
	waitset(node);
	discovery(node);
	return tap_done();
}
