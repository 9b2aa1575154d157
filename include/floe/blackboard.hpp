// SPDX-License-Identifier: MIT
/*
 * floe for C++17: the blackboard, typed key -> value entries with one
 * writer and many readers.
 */
#ifndef FLOE_BLACKBOARD_HPP
#define FLOE_BLACKBOARD_HPP

#include <chrono>

#include <floe/core.hpp>

namespace floe {

/** One entry: its key, type and (create only) initial value. The
 * caller's type name and initial value must outlive the call using it. */
template <class T>
floe_blackboard_entry entry(std::uint64_t key, const char *type_name,
			    const T *initial = nullptr) noexcept
{
	floe_type t = type_of<T>(type_name);

	return { key, t.name, t.size, t.align, initial };
}

struct blackboard_config {
	std::vector<floe_blackboard_entry> entries; ///< create: all; open: relied on
	std::optional<floe_blackboard_qos> qos;
	floe::attributes attributes;
	std::uint32_t mode = 0;
};

class blackboard {
public:
	/** @m: mode::create or mode::open (a blackboard is made whole). */
	blackboard(node &n, const std::string &name,
		   const blackboard_config &cfg, mode m)
		: h_(detail::make<handle>([&](floe_blackboard **out) {
			  auto attrs = detail::c_attributes(cfg.attributes);
			  floe_blackboard_opts o{};

			  o.entries = cfg.entries.data();
			  o.num_entries = cfg.entries.size();
			  o.qos = cfg.qos ? &*cfg.qos : nullptr;
			  o.attributes = attrs.data();
			  o.num_attributes = attrs.size();
			  o.mode = cfg.mode;
			  if (m == mode::open_or_create)
				  return int(FLOE_E_INVALID);
			  return m == mode::create
				  ? floe_blackboard_create(n.get(), name.c_str(),
							   &o, out)
				  : floe_blackboard_open(n.get(), name.c_str(),
							 &o, out);
		  })) {}

	floe_blackboard *get() const noexcept { return h_.get(); }
	std::string name() const { return floe_blackboard_name(get()); }
	/** The keys in creation order (entry i fires event id i). */
	std::vector<std::uint64_t> keys() const
	{
		std::vector<std::uint64_t> out(floe_blackboard_num_entries(get()));

		for (std::size_t i = 0; i < out.size(); i++)
			check(floe_blackboard_key(get(), i, &out[i]));
		return out;
	}

private:
	using handle = detail::owner<floe_blackboard, floe_blackboard_close>;
	handle h_;
};

class writer {
public:
	explicit writer(blackboard &bb)
		: h_(detail::make<handle>([&](floe_writer **out) {
			  return floe_writer_create(bb.get(), out);
		  })) {}

	/** Copy @value into entry @key and publish it. */
	template <class T> void write(std::uint64_t key, const T &value)
	{
		detail::check_payload<T>();
		check(floe_writer_write(h_.get(), key, &value, sizeof(T)));
	}
	/** Zero-copy: the entry's unpublished slot, to fill and publish(). */
	template <class T> T &loan(std::uint64_t key)
	{
		void *slot = nullptr;

		detail::check_payload<T>();
		check(floe_writer_loan(h_.get(), key, &slot));
		return *static_cast<T *>(slot);
	}
	void publish(std::uint64_t key)
	{
		check(floe_writer_publish(h_.get(), key));
	}

private:
	using handle = detail::owner<floe_writer, floe_writer_destroy>;
	handle h_;
};

class reader {
public:
	explicit reader(blackboard &bb)
		: h_(detail::make<handle>([&](floe_reader **out) {
			  return floe_reader_create(bb.get(), out);
		  })) {}

	/** Entry @key's latest value; @generation: writes since creation. */
	template <class T>
	T read(std::uint64_t key, std::uint64_t *generation = nullptr)
	{
		T value;

		detail::check_payload<T>();
		check(floe_reader_read(h_.get(), key, &value, sizeof(T),
				       generation));
		return value;
	}
	std::uint64_t generation(std::uint64_t key)
	{
		std::uint64_t g = 0;

		check(floe_reader_generation(h_.get(), key, &g));
		return g;
	}
	bool changed(std::uint64_t key)
	{
		return check(floe_reader_changed(h_.get(), key)) == 1;
	}
	/** The keys written since the last wait (empty: timeout passed). */
	std::vector<std::uint64_t> wait(std::chrono::nanoseconds timeout)
	{
		detail::collector<std::uint64_t> c;

		return c.take(floe_reader_wait(
			h_.get(), static_cast<std::uint64_t>(timeout.count()),
			c.add_id, &c));
	}
	/** The reader's listener, owned by the reader (for a waitset). */
	floe_listener *listener() const noexcept
	{
		return floe_reader_listener(h_.get());
	}

private:
	using handle = detail::owner<floe_reader, floe_reader_destroy>;
	handle h_;
};

} // namespace floe

#endif
