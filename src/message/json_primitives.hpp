// Hot-path JSON primitives used by the message encoder.
//
// Every writer takes a pointer into a buffer that the caller has already sized, writes its
// output there and returns the pointer one past the last byte written. None of them allocates,
// locks, throws or makes a system call (is_valid_json allocates on first use per thread).
//
// One header per concern; this one gathers them for the encoder and the stages that use
// several.
#pragma once

#include "htevents/detail/json_write.hpp"  // strings and numbers (the fast-path writer inlines them)
#include "message/json_string.hpp"
#include "message/json_time.hpp"
#include "message/json_validation.hpp"
#include "message/uuid.hpp"
