#pragma once
/// The one include: everything public in htevents.

#include "htevents/client.hpp"
#include "htevents/config.hpp"
#include "htevents/message.hpp"
#include "htevents/stats.hpp"
#include "htevents/status.hpp"
#include "htevents/transport.hpp"
#include "htevents/value.hpp"
#include "htevents/writer.hpp"
