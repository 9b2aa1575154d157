// SPDX-License-Identifier: MIT
/*
 * floe for C++17: the waitset. One thread sleeps on listeners, file
 * descriptors and intervals; run() and run_once() call a function per
 * trigger with the attachment id. An exception thrown by that function
 * stops the run and is rethrown by run() or run_once().
 */
#ifndef FLOE_WAITSET_HPP
#define FLOE_WAITSET_HPP

#include <chrono>
#include <exception>
#include <functional>

#include <floe/core.hpp>
#include <floe/event.hpp>

namespace floe {

class waitset {
public:
	/** Returns 0 to go on, non-zero to stop run() with that value. */
	using callback = std::function<int(int attachment, floe_trigger)>;

	explicit waitset(const floe_waitset_opts *opts = nullptr)
		: h_(detail::make<handle>([&](floe_waitset **out) {
			  return floe_waitset_create(opts, out);
		  })),
		  state_(new run_state) {}

	enum floe_waitset_impl impl() const noexcept
	{
		return floe_waitset_impl(h_.get());
	}
	/** Attach a listener (or a blackboard reader's); with @deadline,
	 * MISSED_DEADLINE whenever it stays silent that long. */
	int attach(floe_listener *l, std::chrono::nanoseconds deadline = {})
	{
		return check(floe_waitset_attach_listener(
			h_.get(), l, static_cast<std::uint64_t>(deadline.count()),
			state_.get()));
	}
	int attach(listener &l, std::chrono::nanoseconds deadline = {})
	{
		return attach(l.get(), deadline);
	}
	int attach_fd(int fd)
	{
		return check(floe_waitset_attach_fd(h_.get(), fd, state_.get()));
	}
	int attach_interval(std::chrono::nanoseconds period)
	{
		return check(floe_waitset_attach_interval(
			h_.get(), static_cast<std::uint64_t>(period.count()),
			state_.get()));
	}
	void detach(int attachment)
	{
		check(floe_waitset_detach(h_.get(), attachment));
	}
	/** Report what is due within @timeout; returns the triggers reported
	 * or the callback's non-zero value. */
	int run_once(std::chrono::nanoseconds timeout, callback cb)
	{
		return run_with(std::move(cb), [&] {
			return floe_waitset_run_once(
				h_.get(), static_cast<std::uint64_t>(timeout.count()),
				trampoline);
		});
	}
	/** Report triggers until the callback returns non-zero (returned), or
	 * with handle_signals SIGINT/SIGTERM (FLOE_E_INTERRUPTED thrown). */
	int run(callback cb)
	{
		return run_with(std::move(cb), [&] {
			return floe_waitset_run(h_.get(), trampoline);
		});
	}

private:
	struct run_state {
		callback cb;
		std::exception_ptr failure;
	};
	static int trampoline(floe_waitset *, int attachment, floe_trigger t,
			      void *user) noexcept
	{
		auto *st = static_cast<run_state *>(user);

		try {
			return st->cb(attachment, t);
		} catch (...) {
			st->failure = std::current_exception();
			return 1;
		}
	}
	template <class F> int run_with(callback cb, F run)
	{
		state_->cb = std::move(cb);
		state_->failure = nullptr;
		int rc = run();
		state_->cb = nullptr;
		if (state_->failure)
			std::rethrow_exception(state_->failure);
		return check(rc);
	}

	using handle = detail::owner<floe_waitset, floe_waitset_destroy>;
	handle h_;
	// attachments point at it: it must not move with the waitset
	std::unique_ptr<run_state> state_;
};

} // namespace floe

#endif
