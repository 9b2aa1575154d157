// SPDX-License-Identifier: MIT
/*
 * floe for C++17: events. Notifiers signal event ids; listeners learn
 * which ids fired since they last looked.
 */
#ifndef FLOE_EVENT_HPP
#define FLOE_EVENT_HPP

#include <chrono>

#include <floe/core.hpp>

namespace floe {

struct event_config {
	std::optional<struct floe_event_qos> qos; ///< create: QoS; open: minimums
	floe::attributes attributes;
	std::uint32_t mode = 0;
};

class event_service : public service_base {
public:
	event_service(node &n, const std::string &name,
		      const event_config &cfg = {},
		      mode m = mode::open_or_create)
		: service_base(open(n, name, cfg, m)) {}

	struct floe_event_qos qos() const noexcept
	{
		struct floe_event_qos q;

		floe_event_qos(get(), &q);
		return q;
	}

private:
	static floe_service *open(node &n, const std::string &name,
				  const event_config &cfg, mode m)
	{
		auto attrs = detail::c_attributes(cfg.attributes);
		floe_event_opts o{};

		o.qos = cfg.qos ? &*cfg.qos : nullptr;
		o.attributes = attrs.data();
		o.num_attributes = attrs.size();
		o.mode = cfg.mode;
		return get_service(m, floe_event_open, floe_event_create,
				   floe_event_open_or_create, n, name, &o);
	}
};

class notifier {
public:
	explicit notifier(event_service &s)
		: h_(detail::make<handle>([&](floe_notifier **out) {
			  return floe_notifier_create(s.get(), out);
		  })) {}

	std::uint64_t id() const noexcept { return floe_notifier_id(h_.get()); }
	/** Signal @event_id; returns the number of listeners signalled. */
	int notify(std::uint64_t event_id)
	{
		return check(floe_notifier_notify(h_.get(), event_id));
	}

private:
	using handle = detail::owner<floe_notifier, floe_notifier_destroy>;
	handle h_;
};

/** A listener; the waits return the ids that fired, in increasing order
 * (empty: none, or the timeout passed). */
class listener {
public:
	explicit listener(event_service &s)
		: h_(detail::make<handle>([&](floe_listener **out) {
			  return floe_listener_create(s.get(), out);
		  })) {}

	floe_listener *get() const noexcept { return h_.get(); }
	std::uint64_t id() const noexcept { return floe_listener_id(h_.get()); }
	std::vector<std::uint64_t> try_wait()
	{
		return wait([&](floe_event_cb cb, void *ctx) {
			return floe_listener_try_wait(get(), cb, ctx);
		});
	}
	std::vector<std::uint64_t> timed_wait(std::chrono::nanoseconds timeout)
	{
		auto ns = static_cast<std::uint64_t>(timeout.count());

		return wait([&](floe_event_cb cb, void *ctx) {
			return floe_listener_timed_wait(get(), ns, cb, ctx);
		});
	}
	std::vector<std::uint64_t> blocking_wait()
	{
		return wait([&](floe_event_cb cb, void *ctx) {
			return floe_listener_blocking_wait(get(), cb, ctx);
		});
	}
	/** Readable when an event fired (then call try_wait()). */
	int fd() { return check(floe_listener_fd(get())); }

private:
	using handle = detail::owner<floe_listener, floe_listener_destroy>;
	template <class F> static std::vector<std::uint64_t> wait(F call)
	{
		detail::collector<std::uint64_t> c;

		return c.take(call(c.add_id, &c));
	}
	handle h_;
};

} // namespace floe

#endif
