// SPDX-License-Identifier: MIT
/*
 * floe for C++17: publish-subscribe. A service<T> carries payloads of T
 * (or slices of T); publisher<T>::loan() gives a sample_mut<T> written in
 * place and sent, subscriber<T>::receive() a read-only sample<T> viewing
 * the publisher's shared memory.
 */
#ifndef FLOE_PUBSUB_HPP
#define FLOE_PUBSUB_HPP

#include <floe/core.hpp>

namespace floe {

namespace detail {
/* floe_sample_release takes a const pointer; owners end mutable ones */
inline void release_sample(floe_sample *s) noexcept
{
	floe_sample_release(s);
}
} // namespace detail

/** What a publish-subscribe service is created with or opened by. */
struct service_config {
	std::string type_name;                 ///< shared by every language
	std::optional<floe_pubsub_qos> qos;    ///< create: QoS; open: minimums
	floe::attributes attributes;           ///< create: stored; open: required
	std::uint32_t mode = 0;                ///< shared memory's permission bits
};

/** A publish-subscribe service whose payload elements are T. */
template <class T> class service : public service_base {
public:
	service(node &n, const std::string &name, const service_config &cfg,
		mode m = mode::open_or_create)
		: service_base(open(n, name, cfg, m)) {}

	/** The QoS the service was created with. */
	floe_pubsub_qos qos() const noexcept
	{
		floe_pubsub_qos q;

		floe_service_qos(get(), &q);
		return q;
	}

private:
	static floe_service *open(node &n, const std::string &name,
				  const service_config &cfg, mode m)
	{
		auto attrs = detail::c_attributes(cfg.attributes);
		floe_service_opts o{};

		o.type = type_of<T>(cfg.type_name.c_str());
		o.qos = cfg.qos ? &*cfg.qos : nullptr;
		o.attributes = attrs.data();
		o.num_attributes = attrs.size();
		o.mode = cfg.mode;
		return get_service(m, floe_service_open, floe_service_create,
				   floe_service_open_or_create, n, name, &o);
	}
};

/** A loaned, writable sample: fill it in place, then send() it; the
 * destructor discards a loan that was not sent. */
template <class T> class sample_mut
	: public detail::elements<sample_mut<T>, T> {
public:
	explicit sample_mut(floe_sample_mut *s) noexcept : h_(s) {}

	T *data() const noexcept
	{
		return static_cast<T *>(floe_sample_mut_payload(h_.get()));
	}
	std::uint64_t len() const noexcept
	{
		return floe_sample_mut_len(h_.get());
	}
	/** The user header (the service must have one of sizeof(H)). */
	template <class H> H *user_header() const noexcept
	{
		return static_cast<H *>(floe_sample_mut_user_header(h_.get()));
	}
	/** Deliver it; returns the number of subscribers reached. */
	int send() { return check(floe_sample_mut_send(h_.release())); }
	/** End the loan without sending. */
	void discard() noexcept { h_.reset(); }
	explicit operator bool() const noexcept { return bool(h_); }

private:
	detail::owner<floe_sample_mut, floe_sample_mut_discard> h_;
};

template <class T> class publisher {
public:
	explicit publisher(service<T> &s,
			   const floe_publisher_opts *opts = nullptr)
		: h_(detail::make<handle>([&](floe_publisher **out) {
			  return floe_publisher_create(s.get(), opts, out);
		  })) {}

	std::uint64_t id() const noexcept { return floe_publisher_id(h_.get()); }
	/** Loan one T (uninitialised). */
	sample_mut<T> loan() { return loan_slice(1); }
	/** Loan @len elements of T (uninitialised). */
	sample_mut<T> loan_slice(std::uint64_t len)
	{
		floe_sample_mut *s = nullptr;

		check(floe_publisher_loan(h_.get(), len, &s));
		return sample_mut<T>(s);
	}
	/** Copy and send; returns the number of subscribers reached. */
	int send_copy(const T &value)
	{
		return check(floe_publisher_send_copy(h_.get(), &value,
						      sizeof(T)));
	}
	int send_copy(span<const T> values)
	{
		return check(floe_publisher_send_copy(h_.get(), values.data(),
						      values.size() * sizeof(T)));
	}
	void update_connections()
	{
		check(floe_publisher_update_connections(h_.get()));
	}

private:
	using handle = detail::owner<floe_publisher, floe_publisher_destroy>;
	handle h_;
};

/** A received sample, read-only in the publisher's shared memory; the
 * destructor releases it. */
template <class T> class sample
	: public detail::elements<sample<T>, const T> {
public:
	explicit sample(const floe_sample *s) noexcept
		: h_(const_cast<floe_sample *>(s)) {}

	const T *data() const noexcept
	{
		return static_cast<const T *>(floe_sample_payload(h_.get()));
	}
	std::uint64_t len() const noexcept { return floe_sample_len(h_.get()); }
	std::uint64_t payload_size() const noexcept
	{
		return floe_sample_payload_size(h_.get());
	}
	std::uint64_t publisher_id() const noexcept
	{
		return floe_sample_publisher_id(h_.get());
	}
	std::uint64_t sequence() const noexcept
	{
		return floe_sample_sequence(h_.get());
	}
	template <class H> const H *user_header() const noexcept
	{
		return static_cast<const H *>(floe_sample_user_header(h_.get()));
	}
	void release() noexcept { h_.reset(); }
	explicit operator bool() const noexcept { return bool(h_); }

private:
	detail::owner<floe_sample, detail::release_sample> h_;
};

template <class T> class subscriber {
public:
	explicit subscriber(service<T> &s,
			    const floe_subscriber_opts *opts = nullptr)
		: h_(detail::make<handle>([&](floe_subscriber **out) {
			  return floe_subscriber_create(s.get(), opts, out);
		  })) {}

	std::uint64_t id() const noexcept { return floe_subscriber_id(h_.get()); }
	/** The next sample, or nothing if none is waiting. */
	std::optional<sample<T>> receive()
	{
		const floe_sample *s = nullptr;

		if (check(floe_subscriber_receive(h_.get(), &s)) == 0)
			return std::nullopt;
		return sample<T>(s);
	}
	bool has_samples() const noexcept
	{
		return floe_subscriber_has_samples(h_.get());
	}

private:
	using handle = detail::owner<floe_subscriber, floe_subscriber_destroy>;
	handle h_;
};

} // namespace floe

#endif
