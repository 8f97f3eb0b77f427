// Client: the public facade. Everything happens in ClientCore.

#include "htevents/client.hpp"

#include <vector>

#include "client_core.hpp"
#include "htevents_version.hpp"

namespace htevents {
inline namespace v0 {

Client::Client(std::string write_key, Config config)
    : core_(std::make_unique<detail::ClientCore>(std::move(write_key), std::move(config))) {}

namespace {
// In a child process forked while a client existed, its copy is kept, never destroyed: the
// threads it would join do not exist there, and its connections are the parent's. Kept
// reachable so that leak checkers do not count it.
void keep_forked_copy(std::unique_ptr<detail::ClientCore> core) noexcept {
  static auto* kept = new std::vector<std::unique_ptr<detail::ClientCore>>;
  try {
    kept->push_back(std::move(core));
  } catch (...) {
    (void)core.release();
  }
}
}  // namespace

Client::~Client() {
  // ClientCore's destructor closes.
  if (core_ != nullptr && core_->forked()) keep_forked_copy(std::move(core_));
}

Status Client::enqueue(Identify const& message) noexcept { return core_->enqueue(message); }
Status Client::enqueue(Track const& message) noexcept { return core_->enqueue(message); }
Status Client::enqueue(Page const& message) noexcept { return core_->enqueue(message); }
Status Client::enqueue(Screen const& message) noexcept { return core_->enqueue(message); }
Status Client::enqueue(Group const& message) noexcept { return core_->enqueue(message); }
Status Client::enqueue(Alias const& message) noexcept { return core_->enqueue(message); }

TrackWriter Client::track(std::string_view event) noexcept { return TrackWriter(core_.get(), event); }
IdentifyWriter Client::identify() noexcept { return IdentifyWriter(core_.get(), detail::MessageType::identify, {}); }
PageWriter Client::page(std::string_view name) noexcept {
  return PageWriter(core_.get(), detail::MessageType::page, name);
}
ScreenWriter Client::screen(std::string_view name) noexcept {
  return ScreenWriter(core_.get(), detail::MessageType::screen, name);
}
GroupWriter Client::group(std::string_view group_id) noexcept {
  return GroupWriter(core_.get(), detail::MessageType::group, group_id);
}
AliasWriter Client::alias(std::string_view previous_id) noexcept { return AliasWriter(core_.get(), previous_id); }

bool Client::flush(std::chrono::milliseconds timeout) noexcept { return core_->flush(timeout); }
bool Client::close(std::chrono::milliseconds timeout) noexcept { return core_->close(timeout); }
Stats Client::stats() const noexcept { return core_->stats(); }

std::string_view version() noexcept { return HTEVENTS_VERSION; }

}  // namespace v0
}  // namespace htevents
