#pragma once
// Validation and JSON encoding of the six message structs, in wire-format.md's key order,
// straight into the producer's arena.

#include "htevents/message.hpp"
#include "htevents/status.hpp"
#include "message/message_arena.hpp"

namespace htevents::inline v0::detail {

// The first failed rule of wire-format.md's "Validation", or Status::ok. No encoding happens.
Status validate(Identify const& m) noexcept;
Status validate(Track const& m) noexcept;
Status validate(Page const& m) noexcept;
Status validate(Screen const& m) noexcept;
Status validate(Group const& m) noexcept;
Status validate(Alias const& m) noexcept;

// Encodes a validated message; errors (invalid_number, invalid_json, queue_full, ...) are left
// in the arena's status.
void encode(MessageArena& out, Identify const& m) noexcept;
void encode(MessageArena& out, Track const& m) noexcept;
void encode(MessageArena& out, Page const& m) noexcept;
void encode(MessageArena& out, Screen const& m) noexcept;
void encode(MessageArena& out, Group const& m) noexcept;
void encode(MessageArena& out, Alias const& m) noexcept;

}  // namespace htevents::inline v0::detail
