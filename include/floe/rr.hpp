// SPDX-License-Identifier: MIT
/*
 * floe for C++17: request-response with streams. A client<Req, Resp>
 * loans a request, sends it and gets a pending_response<Resp> that yields
 * each server's stream of responses; a server<Req, Resp> receives an
 * active_request and answers it with loaned responses, ending the stream
 * when the active request is dropped (or destroyed).
 */
#ifndef FLOE_RR_HPP
#define FLOE_RR_HPP

#include <floe/core.hpp>

namespace floe {

struct rr_config {
	std::string request_type_name;
	std::string response_type_name;
	std::optional<struct floe_rr_qos> qos; ///< create: QoS; open: minimums
	floe::attributes attributes;
	std::uint32_t mode = 0;
};

template <class Req, class Resp> class rr_service : public service_base {
public:
	rr_service(node &n, const std::string &name, const rr_config &cfg,
		   mode m = mode::open_or_create)
		: service_base(open(n, name, cfg, m)) {}

	struct floe_rr_qos qos() const noexcept
	{
		struct floe_rr_qos q;

		floe_rr_qos(get(), &q);
		return q;
	}

private:
	static floe_service *open(node &n, const std::string &name,
				  const rr_config &cfg, mode m)
	{
		auto attrs = detail::c_attributes(cfg.attributes);
		floe_rr_opts o{};

		o.request_type = type_of<Req>(cfg.request_type_name.c_str());
		o.response_type = type_of<Resp>(cfg.response_type_name.c_str());
		o.qos = cfg.qos ? &*cfg.qos : nullptr;
		o.attributes = attrs.data();
		o.num_attributes = attrs.size();
		o.mode = cfg.mode;
		return get_service(m, floe_rr_open, floe_rr_create,
				   floe_rr_open_or_create, n, name, &o);
	}
};

namespace detail {
inline void release_response(floe_response *r) noexcept
{
	floe_response_release(r);
}
} // namespace detail

/** A response received by a client, read-only in the server's memory. */
template <class Resp> class response
	: public detail::elements<response<Resp>, const Resp> {
public:
	explicit response(const floe_response *r) noexcept
		: h_(const_cast<floe_response *>(r)) {}

	const Resp *data() const noexcept
	{
		return static_cast<const Resp *>(floe_response_payload(h_.get()));
	}
	std::uint64_t len() const noexcept { return floe_response_len(h_.get()); }
	std::uint64_t server_id() const noexcept
	{
		return floe_response_server_id(h_.get());
	}
	void release() noexcept { h_.reset(); }

private:
	detail::owner<floe_response, detail::release_response> h_;
};

/**
 * The responses to one request. receive() gives the next one, or nothing
 * when none is waiting yet or the stream ended (then ended() is true);
 * a server that died or left mid-stream throws FLOE_E_DEAD once what it
 * sent was taken. The destructor (or drop()) stops listening.
 */
template <class Resp> class pending_response {
public:
	explicit pending_response(floe_pending_response *p) noexcept : h_(p) {}

	std::optional<response<Resp>> receive()
	{
		const floe_response *r = nullptr;
		int rc;

		if (ended_)
			return std::nullopt;
		rc = floe_pending_response_receive(h_.get(), &r);
		if (rc == FLOE_E_END_OF_STREAM) {
			ended_ = true;
			return std::nullopt;
		}
		if (check(rc) == 0)
			return std::nullopt;
		return response<Resp>(r);
	}
	bool ended() const noexcept { return ended_; }
	/** Servers whose streams have not ended yet. */
	std::uint32_t servers() const noexcept
	{
		return floe_pending_response_servers(h_.get());
	}
	void drop() noexcept { h_.reset(); }

private:
	detail::owner<floe_pending_response, floe_pending_response_drop> h_;
	bool ended_ = false;
};

/** A loaned request; the destructor discards it unless sent. */
template <class Req, class Resp> class request_mut
	: public detail::elements<request_mut<Req, Resp>, Req> {
public:
	explicit request_mut(floe_request_mut *r) noexcept : h_(r) {}

	Req *data() const noexcept
	{
		return static_cast<Req *>(floe_request_mut_payload(h_.get()));
	}
	std::uint64_t len() const noexcept
	{
		return floe_request_mut_len(h_.get());
	}
	/** Send to every connected server. On FLOE_E_ACTIVE_LIMIT the
	 * exception leaves the request loaned here, to send again later. */
	pending_response<Resp> send()
	{
		floe_pending_response *p = nullptr;
		int rc = floe_request_mut_send(h_.get(), &p);

		if (rc == FLOE_E_ACTIVE_LIMIT)
			throw error(rc);
		h_.release(); // the loan ended, and a failed send may still
		pending_response<Resp> pending(p); // have opened a stream
		check(rc);
		return pending;
	}
	/** Send expecting no response; returns the servers reached. */
	int send_fire_and_forget()
	{
		int rc = floe_request_mut_send_fire_and_forget(h_.get());

		if (rc != FLOE_E_QOS_MISMATCH)
			h_.release(); // the loan ended
		return check(rc);
	}
	void discard() noexcept { h_.reset(); }

private:
	detail::owner<floe_request_mut, floe_request_mut_discard> h_;
};

template <class Req, class Resp> class client {
public:
	explicit client(rr_service<Req, Resp> &s,
			const floe_client_opts *opts = nullptr)
		: h_(detail::make<handle>([&](floe_client **out) {
			  return floe_client_create(s.get(), opts, out);
		  })) {}

	std::uint64_t id() const noexcept { return floe_client_id(h_.get()); }
	request_mut<Req, Resp> loan() { return loan_slice(1); }
	request_mut<Req, Resp> loan_slice(std::uint64_t len)
	{
		floe_request_mut *r = nullptr;

		check(floe_client_loan(h_.get(), len, &r));
		return request_mut<Req, Resp>(r);
	}
	pending_response<Resp> send_copy(const Req &value)
	{
		floe_pending_response *p = nullptr;

		check(floe_client_send_copy(h_.get(), &value, sizeof(Req), &p));
		return pending_response<Resp>(p);
	}

private:
	using handle = detail::owner<floe_client, floe_client_destroy>;
	handle h_;
};

/** A loaned response; the destructor discards it unless sent. */
template <class Resp> class response_mut
	: public detail::elements<response_mut<Resp>, Resp> {
public:
	explicit response_mut(floe_response_mut *r) noexcept : h_(r) {}

	Resp *data() const noexcept
	{
		return static_cast<Resp *>(floe_response_mut_payload(h_.get()));
	}
	std::uint64_t len() const noexcept
	{
		return floe_response_mut_len(h_.get());
	}
	/** 1 if queued for the client, 0 if it no longer listens (or, with
	 * DISCARD, its buffer was full). */
	int send() { return check(floe_response_mut_send(h_.release())); }
	void discard() noexcept { h_.reset(); }

private:
	detail::owner<floe_response_mut, floe_response_mut_discard> h_;
};

/** A request being served; dropping it (or its destructor) ends the
 * stream. */
template <class Req, class Resp> class active_request
	: public detail::elements<active_request<Req, Resp>, const Req> {
public:
	explicit active_request(floe_active_request *r) noexcept : h_(r) {}

	const Req *data() const noexcept
	{
		return static_cast<const Req *>(
			floe_active_request_payload(h_.get()));
	}
	std::uint64_t len() const noexcept
	{
		return floe_active_request_len(h_.get());
	}
	std::uint64_t client_id() const noexcept
	{
		return floe_active_request_client_id(h_.get());
	}
	bool is_fire_and_forget() const noexcept
	{
		return floe_active_request_is_fire_and_forget(h_.get());
	}
	bool is_connected() const noexcept
	{
		return floe_active_request_is_connected(h_.get());
	}
	response_mut<Resp> loan() { return loan_slice(1); }
	response_mut<Resp> loan_slice(std::uint64_t len)
	{
		floe_response_mut *r = nullptr;

		check(floe_active_request_loan(h_.get(), len, &r));
		return response_mut<Resp>(r);
	}
	int send_copy(const Resp &value)
	{
		return check(floe_active_request_send_copy(h_.get(), &value,
							   sizeof(Resp)));
	}
	void drop() noexcept { h_.reset(); }

private:
	detail::owner<floe_active_request, floe_active_request_drop> h_;
};

template <class Req, class Resp> class server {
public:
	explicit server(rr_service<Req, Resp> &s,
			const floe_server_opts *opts = nullptr)
		: h_(detail::make<handle>([&](floe_server **out) {
			  return floe_server_create(s.get(), opts, out);
		  })) {}

	std::uint64_t id() const noexcept { return floe_server_id(h_.get()); }
	std::optional<active_request<Req, Resp>> receive()
	{
		floe_active_request *r = nullptr;

		if (check(floe_server_receive(h_.get(), &r)) == 0)
			return std::nullopt;
		return active_request<Req, Resp>(r);
	}
	bool has_requests() const noexcept
	{
		return floe_server_has_requests(h_.get());
	}
	void update_connections()
	{
		check(floe_server_update_connections(h_.get()));
	}

private:
	using handle = detail::owner<floe_server, floe_server_destroy>;
	handle h_;
};

} // namespace floe

#endif
