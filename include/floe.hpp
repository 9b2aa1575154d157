// SPDX-License-Identifier: MIT
/*
 * floe for C++17 (header-only, over the C library of <floe.h>): RAII,
 * move-only owners of every floe object, typed loans and samples, errors
 * as floe::error exceptions (a std::system_error). See floe/core.hpp for
 * the conventions; link with `pkg-config --libs floe`.
 */
#ifndef FLOE_HPP
#define FLOE_HPP

#include <floe/core.hpp>
#include <floe/pubsub.hpp>
#include <floe/event.hpp>
#include <floe/rr.hpp>
#include <floe/blackboard.hpp>
#include <floe/waitset.hpp>

#endif
