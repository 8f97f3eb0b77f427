#include "batch/progress.hpp"

#include <algorithm>

namespace htevents::inline v0::detail {

void Progress::handed(std::uint64_t serial) {
  std::lock_guard lock(mutex_);
  outstanding_.insert(serial);
  last_handed_ = serial;
}

void Progress::finished(std::uint64_t serial) noexcept {
  {
    std::lock_guard lock(mutex_);
    outstanding_.erase(serial);
  }
  changed_.notify_all();
}

bool Progress::done_through(std::uint64_t serial) const noexcept {
  return outstanding_.empty() || *outstanding_.begin() > serial;
}

std::size_t Progress::outstanding() const noexcept {
  std::lock_guard lock(mutex_);
  return outstanding_.size();
}

void Progress::add(FlushTicket& ticket) {
  {
    std::lock_guard lock(mutex_);
    if (serializer_exited_) {
      // close() got there first: every record is in a handed batch or failed already.
      ticket.batched = true;
      ticket.last_serial = last_handed_;
    }
    tickets_.push_back(&ticket);
  }
  ticket_count_.fetch_add(1, std::memory_order_release);
}

bool Progress::wait(FlushTicket& ticket, std::chrono::steady_clock::time_point deadline) noexcept {
  std::unique_lock lock(mutex_);
  bool const done =
      changed_.wait_until(lock, deadline, [&] { return ticket.batched && done_through(ticket.last_serial); });
  std::erase(tickets_, &ticket);
  ticket_count_.fetch_sub(1, std::memory_order_release);
  return done;
}

void Progress::serializer_exited() noexcept {
  {
    std::lock_guard lock(mutex_);
    serializer_exited_ = true;
    for (FlushTicket* ticket : tickets_) {
      if (ticket->batched) continue;
      ticket->batched = true;
      ticket->last_serial = last_handed_;
    }
  }
  changed_.notify_all();
}

}  // namespace htevents::inline v0::detail
