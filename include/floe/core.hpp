// SPDX-License-Identifier: MIT
/*
 * floe for C++17: errors, handles, spans, nodes, type descriptions and
 * discovery. Part of <floe.hpp>; the other floe headers build on it.
 *
 * Errors: every failing call throws floe::error, a std::system_error whose
 * code() holds the floe_error value (negative, compare with FLOE_E_*) in
 * floe::category() and whose what() is floe_strerror()'s text. Outcomes
 * that are not failures — nothing received yet, a timeout that passed, a
 * stream that ended — are return values, never exceptions.
 *
 * Ownership: every object owns its C handle, is move-only, and ends it in
 * its destructor (samples are released, loans discarded, ports and
 * services destroyed). As in C, samples and loans must go before their
 * port, ports before their service and services before their node:
 * declaring them in that order in one scope does it.
 */
#ifndef FLOE_CORE_HPP
#define FLOE_CORE_HPP

/* floe.h names functions after structs (floe_rr_qos, floe_event_qos), which
 * g++'s -Wshadow reports in C++: not a problem of the user's code. */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#endif
#include <floe.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#if __cplusplus >= 202002L && __has_include(<span>)
#include <span>
#endif

namespace floe {

/** The error category of floe_error values: message() is floe_strerror(). */
inline const std::error_category &category() noexcept
{
	struct floe_category final : std::error_category {
		const char *name() const noexcept override { return "floe"; }
		std::string message(int ev) const override
		{
			return floe_strerror(ev);
		}
	};
	static const floe_category instance;
	return instance;
}

/** What every failing call throws; code().value() is the floe_error. */
class error : public std::system_error {
public:
	explicit error(int err)
		: std::system_error(err, category()) {}
	explicit error(int err, const std::string &what)
		: std::system_error(err, category(), what) {}
};

/** Throw floe::error for a negative result, else return it. */
inline int check(int rc)
{
	if (rc < 0)
		throw error(rc);
	return rc;
}

#if defined(__cpp_lib_span)
/** A run of elements in shared memory: std::span under C++20. */
template <class T> using span = std::span<T>;
#else
/** A run of elements in shared memory (C++17: pointer and size). */
template <class T> class span {
public:
	span() noexcept = default;
	span(T *data, std::size_t size) noexcept : data_(data), size_(size) {}
	T *data() const noexcept { return data_; }
	std::size_t size() const noexcept { return size_; }
	std::size_t size_bytes() const noexcept { return size_ * sizeof(T); }
	bool empty() const noexcept { return size_ == 0; }
	T &operator[](std::size_t i) const noexcept { return data_[i]; }
	T *begin() const noexcept { return data_; }
	T *end() const noexcept { return data_ + size_; }

private:
	T *data_ = nullptr;
	std::size_t size_ = 0;
};
#endif

namespace detail {

/** A C handle and the function that ends it, as a move-only owner. */
template <class T, void (*End)(T *)> struct ender {
	void operator()(T *p) const noexcept { End(p); }
};
template <class T, void (*End)(T *)>
using owner = std::unique_ptr<T, ender<T, End>>;

/** Take ownership of what a floe_*_create call produced. */
template <class Owner, class Create>
Owner make(Create &&create)
{
	typename Owner::pointer raw = nullptr;

	check(create(&raw));
	return Owner(raw);
}

/** Payload types travel as bytes between processes. */
template <class T> constexpr void check_payload()
{
	static_assert(std::is_trivially_copyable_v<T>,
		      "floe payloads must be trivially copyable");
}

/* What a C callback reports (discovery's infos, event ids, blackboard
 * keys), gathered into a vector; bad_alloc must not cross C frames. */
template <class Item> struct collector {
	std::vector<Item> items;
	bool failed = false;

	void add(const Item &item) noexcept
	{
		try {
			items.push_back(item);
		} catch (...) {
			failed = true;
		}
	}
	/* discovery's callbacks: non-zero stops the walk */
	static int add_info(const Item *info, void *ctx) noexcept
	{
		auto *self = static_cast<collector *>(ctx);

		self->add(*info);
		return self->failed;
	}
	static void add_id(std::uint64_t id, void *ctx) noexcept
	{
		static_cast<collector *>(ctx)->add(id);
	}
	std::vector<Item> take(int rc)
	{
		check(rc);
		if (failed)
			throw std::bad_alloc();
		return std::move(items);
	}
};

/* operator*, operator-> and slice() of a payload of elements E (const
 * ones for read-only payloads), from the owner's data() and len(). */
template <class Owner, class E> class elements {
public:
	E &operator*() const noexcept { return *self().data(); }
	E *operator->() const noexcept { return self().data(); }
	/** Every element of the payload. */
	span<E> slice() const noexcept
	{
		return { self().data(), static_cast<std::size_t>(self().len()) };
	}

private:
	const Owner &self() const noexcept
	{
		return static_cast<const Owner &>(*this);
	}
};

/** Attributes as C wants them, pointing into the caller's strings. */
inline std::vector<floe_attribute> c_attributes(
	const std::vector<std::pair<std::string, std::string>> &attrs)
{
	std::vector<floe_attribute> out;

	out.reserve(attrs.size());
	for (const auto &a : attrs)
		out.push_back({ a.first.c_str(), a.second.c_str() });
	return out;
}

} // namespace detail

/** A payload type by name, with the size and alignment of T: processes in
 * any language open a service when name, size and alignment agree. */
template <class T> floe_type type_of(const char *name) noexcept
{
	detail::check_payload<T>();
	return { name, sizeof(T), alignof(T) };
}

/** How to get a service. */
enum class mode { open, create, open_or_create };

using attributes = std::vector<std::pair<std::string, std::string>>;

/** A floe node: the process's membership in a domain. */
class node {
public:
	explicit node(const std::string &name,
		      const floe_node_opts *opts = nullptr)
		: h_(detail::make<handle>([&](floe_node **out) {
			  return floe_node_create(name.c_str(), opts, out);
		  })) {}

	floe_node *get() const noexcept { return h_.get(); }
	std::uint64_t id() const noexcept { return floe_node_id(h_.get()); }
	floe_backend_kind backend() const noexcept
	{
		return floe_node_backend(h_.get());
	}
	/** Remove what dead nodes left; returns how many were removed. */
	int cleanup_dead() { return check(floe_node_cleanup_dead(get())); }

	/** Discovery: the domain's nodes, services and ports right now. */
	std::vector<floe_node_info> nodes() const
	{
		detail::collector<floe_node_info> c;
		return c.take(floe_node_list(get(), c.add_info, &c));
	}
	std::vector<floe_service_info> services() const
	{
		detail::collector<floe_service_info> c;
		return c.take(floe_service_list(get(), c.add_info, &c));
	}
	std::vector<floe_port_info> ports() const
	{
		detail::collector<floe_port_info> c;
		return c.take(floe_port_list(get(), c.add_info, &c));
	}

private:
	using handle = detail::owner<floe_node, floe_node_destroy>;
	handle h_;
};

/** Any service (every pattern): its name and attributes. */
class service_base {
public:
	floe_service *get() const noexcept { return h_.get(); }
	std::string name() const { return floe_service_name(h_.get()); }
	/** The value of attribute @key, if the service has it. */
	std::optional<std::string> attribute(const std::string &key) const
	{
		const char *v = floe_service_attribute(h_.get(), key.c_str());

		if (!v)
			return std::nullopt;
		return std::string(v);
	}

protected:
	explicit service_base(floe_service *s) noexcept : h_(s) {}

	/** Open/create @name with the pattern's three C functions. */
	template <class Opts, class F>
	static floe_service *get_service(mode m, F open, F create,
					 F open_or_create, node &n,
					 const std::string &name,
					 const Opts *opts)
	{
		F f = m == mode::open ? open
		      : m == mode::create ? create : open_or_create;
		floe_service *s = nullptr;

		check(f(n.get(), name.c_str(), opts, &s));
		return s;
	}

private:
	detail::owner<floe_service, floe_service_close> h_;
};

} // namespace floe

#endif
