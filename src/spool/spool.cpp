#include "spool/spool.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "message/json_validation.hpp"
#include "spool/spool_files.hpp"

namespace htevents::inline v0::detail {

struct SpoolSegment {
  std::uint64_t sequence = 0;
  int fd = -1;
  std::string path;
  std::size_t bytes = 0;      // file size
  std::uint64_t pending = 0;  // batches not settled
  bool writing = false;       // the serializer may still append
  bool dirty = false;         // written since the last sync
  AdoptedDir* dir = nullptr;  // nullptr: this client's own
};

struct AdoptedDir {
  std::string path;
  int lock_fd = -1;
  std::size_t segments = 0;    // live segments from it
  bool arena_pending = false;  // its arena's records are not all re-batched yet
  bool keep = false;           // holds a file we cannot read (a newer format): never removed
  bool adopting = true;        // its files are still being read: not removed meanwhile
};

namespace {

constexpr auto adopt_interval = std::chrono::seconds(2);

std::int64_t unix_ms_now() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string unique_name() {
  std::random_device rd;
  std::uint64_t const r = (std::uint64_t{rd()} << 32) | rd();
  char buf[64];
  std::snprintf(buf, sizeof buf, "c-%d-%016llx", static_cast<int>(::getpid()), static_cast<unsigned long long>(r));
  return buf;
}

}  // namespace

SpoolOptions SpoolOptions::from(Config const& config, std::size_t block_capacity, std::size_t max_blocks) {
  SpoolOptions o;
  o.dir = config.spool_dir;
  o.max_bytes = config.spool_max_bytes;
  o.sync_interval = config.spool_sync_interval;
  o.memory_dir = config.spool_memory_dir;
  o.block_capacity = block_capacity;
  o.max_blocks = max_blocks;
  return o;
}

Spool::Spool(SpoolOptions options, Logger const& logger) : options_(std::move(options)), logger_(logger) {
  std::string const& root = options_.dir;
  spool_files::ensure_directory(root);
  own_name_ = unique_name();
  own_path_ = root + "/" + own_name_;
  // Locked under a hidden name, then renamed: a sibling never sees (and adopts) a directory
  // whose lock is not taken yet.
  std::string const hidden = root + "/." + own_name_;
  spool_files::make_private_directory(hidden);
  try {
    own_lock_fd_ = spool_files::create_and_lock(hidden + "/lock");
    if (::rename(hidden.c_str(), own_path_.c_str()) != 0) spool_files::fail(own_path_, "cannot be created", errno);
  } catch (...) {
    if (own_lock_fd_ >= 0) ::close(own_lock_fd_);
    ::unlink((hidden + "/lock").c_str());
    ::rmdir(hidden.c_str());
    throw;
  }
  try {
    slot_stride_ = (spool::block_header_bytes + options_.block_capacity + 63) / 64 * 64;
    arena_bytes_ = spool::arena_header_bytes + slot_stride_ * options_.max_blocks;
    arena_file_ = std::make_unique<ArenaFile>(own_path_, own_name_, options_.memory_dir, arena_bytes_, logger_);
    spool::write_arena_header(arena_file_->data(), static_cast<std::uint32_t>(slot_stride_),
                              static_cast<std::uint32_t>(options_.max_blocks), unix_ms_now(),
                              arena_file_->copied() ? spool::arena_flag_live : 0);
    if (int const err = sync_arena(true); err != 0) spool_files::fail(own_path_ + "/arena", "cannot be written", err);
  } catch (...) {
    if (arena_file_ != nullptr) arena_file_->remove();
    arena_file_.reset();
    ::unlink((own_path_ + "/lock").c_str());
    ::rmdir(own_path_.c_str());
    if (own_lock_fd_ >= 0) ::close(own_lock_fd_);
    throw;
  }
  // One segment is at most 1/8 of the budget (so that settled ones are deleted while the rest
  // waits), between one batch's worth and 64 MiB.
  segment_target_ = std::clamp<std::size_t>(options_.max_bytes / 8, std::size_t{1} << 20, std::size_t{64} << 20);
  adopt_dead_siblings();
}

Spool::~Spool() {
  stop(false);
  // The arena is unmapped last (arena_file_'s destructor): the intake's blocks live there
  // until it is destroyed (before the spool).
}

bool Spool::producers_checksum() const noexcept { return !arena_file_->copied(); }

BlockArena Spool::arena() const noexcept {
  return BlockArena{arena_file_->data() + spool::arena_header_bytes, slot_stride_, options_.max_blocks,
                    arena_file_->walking(), arena_file_->epoch()};
}

void Spool::start() {
  thread_ = std::thread([this] { run(); });
}

void Spool::run() noexcept {
  auto next_adopt = std::chrono::steady_clock::now() + adopt_interval;
  // Twice per interval: a record goes to the disk copy at the second sync that finds it whole
  // (ArenaFile::sync), so within one interval of its enqueue.
  auto const sync_every = std::max(options_.sync_interval / 2, std::chrono::milliseconds(1));
  auto next_sync = std::chrono::steady_clock::now() + sync_every;
  std::unique_lock lock(thread_mutex_);
  while (!stopping_) {
    thread_wake_.wait_until(lock, std::min(next_adopt, next_sync), [&] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    auto const now = std::chrono::steady_clock::now();
    if (now >= next_sync) {
      sync_now(false);
      next_sync = now + sync_every;
    }
    if (now >= next_adopt) {
      adopt_dead_siblings();
      if ((recovery_pending() || adopted_waiting()) && on_adopted_) on_adopted_();
      next_adopt = now + adopt_interval;
    }
    lock.lock();
  }
}

void Spool::sync_now(bool everything) noexcept {
  std::vector<int> fds;
  {
    std::lock_guard lock(mutex_);
    for (auto& segment : segments_) {
      if (!segment->dirty) continue;
      segment->dirty = false;
      int const fd = ::dup(segment->fd);  // the segment may be deleted while we sync
      if (fd >= 0) fds.push_back(fd);
    }
  }
  for (int fd : fds) {
    spool_files::sync_data(fd);
    ::close(fd);
  }
  if (int const err = sync_arena(everything); err != 0) note_error("syncing the arena", err);
}

int Spool::sync_arena(bool everything) noexcept {
  return arena_file_->sync(spool::arena_header_bytes, slot_stride_, options_.max_blocks, everything);
}

void Spool::stop(bool arena_clean) noexcept {
  {
    std::lock_guard lock(thread_mutex_);
    if (stopped_) return;
    stopped_ = true;
    stopping_ = true;
  }
  thread_wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  sync_now(true);  // the last one: everything whole, not only what the previous sync saw
  std::lock_guard lock(mutex_);
  bool remove = arena_clean;
  for (auto& segment : segments_) {
    if (segment->dir == nullptr && segment->pending > 0) remove = false;
  }
  for (auto& segment : segments_) {
    if (segment->fd >= 0) ::close(segment->fd);
    segment->fd = -1;
    if (segment->pending == 0 && (segment->dir != nullptr || remove)) ::unlink(segment->path.c_str());
  }
  segments_.clear();
  writing_ = nullptr;
  for (auto& arena : recovering_) ::munmap(arena->mapping, arena->mapping_bytes);
  for (auto& arena : recovered_arenas_) ::munmap(arena->mapping, arena->mapping_bytes);
  recovering_.clear();
  recovered_arenas_.clear();
  for (auto& dir : adopted_) {
    if (dir->segments == 0 && !dir->arena_pending && !dir->keep) {
      ::unlink((dir->path + "/lock").c_str());
      ::rmdir(dir->path.c_str());
    }
    ::close(dir->lock_fd);
  }
  adopted_.clear();
  if (remove) {
    arena_file_->remove();
    ::unlink((own_path_ + "/lock").c_str());
    ::rmdir(own_path_.c_str());
  }
  ::close(own_lock_fd_);  // unlocks: a later client adopts what is left
  own_lock_fd_ = -1;
}

void Spool::close_lock_in_child() noexcept {
  if (own_lock_fd_ >= 0) ::close(own_lock_fd_);
  own_lock_fd_ = -1;
  for (auto& dir : adopted_) {
    if (dir->lock_fd >= 0) ::close(dir->lock_fd);
    dir->lock_fd = -1;
  }
}

void Spool::note_error(char const* what, int err) noexcept {
  errors_.fetch_add(1, std::memory_order_relaxed);
  if (error_logged_.exchange(true, std::memory_order_relaxed)) return;
  try {
    logger_.log(LogLevel::error, std::string("spool: ") + what + " failed in " + own_path_ + ": " + std::strerror(err) +
                                     "; that data stays in memory only (logged once; counted in spool_errors)");
  } catch (...) {
  }
}

SpoolSegment* Spool::open_segment() noexcept {
  auto segment = std::make_unique<SpoolSegment>();
  segment->sequence = next_sequence_++;
  char name[32];
  std::snprintf(name, sizeof name, "/seg-%016llx", static_cast<unsigned long long>(segment->sequence));
  segment->path = own_path_ + name;
  segment->fd = ::open(segment->path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (segment->fd < 0) {
    note_error("creating a segment", errno);
    return nullptr;
  }
  char header[spool::segment_header_bytes];
  spool::write_segment_header(header, segment->sequence, unix_ms_now());
  if (::write(segment->fd, header, sizeof header) != static_cast<ssize_t>(sizeof header)) {
    note_error("writing a segment header", errno);
    ::close(segment->fd);
    ::unlink(segment->path.c_str());
    return nullptr;
  }
  segment->bytes = sizeof header;
  segment->writing = true;
  live_bytes_ += segment->bytes;
  segments_.push_back(std::move(segment));
  return segments_.back().get();
}

void Spool::retire_segment(SpoolSegment* segment) noexcept {
  if (segment->pending > 0 || segment->writing) return;
  ::close(segment->fd);
  ::unlink(segment->path.c_str());
  live_bytes_ -= std::min(live_bytes_, segment->bytes);
  AdoptedDir* dir = segment->dir;
  std::erase_if(segments_, [&](auto const& s) { return s.get() == segment; });
  if (dir != nullptr) {
    --dir->segments;
    maybe_remove_dir(dir);
  }
}

void Spool::maybe_remove_dir(AdoptedDir* dir) noexcept {
  if (dir->segments > 0 || dir->arena_pending || dir->keep || dir->adopting) return;
  ::unlink((dir->path + "/lock").c_str());
  ::rmdir(dir->path.c_str());
  ::close(dir->lock_fd);
  dir->lock_fd = -1;
  std::erase_if(adopted_, [&](auto const& d) { return d.get() == dir; });
}

Spool::Append Spool::append(Batch& batch, std::int64_t opened_unix_ms) noexcept {
  std::string_view const body = batch.wire_view();
  std::size_t const record_bytes = spool::batch_header_bytes + body.size();
  spool::BatchMeta meta;
  meta.serial = batch.serial;
  meta.messages = static_cast<std::uint32_t>(batch.messages.size());
  meta.envelope_at = static_cast<std::uint32_t>(batch.envelope_at);
  meta.raw_bytes = static_cast<std::uint32_t>(batch.body.size());
  meta.encoding = static_cast<std::uint8_t>(batch.encoding);
  meta.id = batch.id;
  meta.oldest_ms = opened_unix_ms;
  char header[spool::batch_header_bytes];
  spool::write_batch_header(header, meta, body);

  std::lock_guard lock(mutex_);
  if (writing_ != nullptr && writing_->bytes + record_bytes > segment_target_ &&
      writing_->bytes > spool::segment_header_bytes) {
    writing_->writing = false;
    SpoolSegment* old = writing_;
    writing_ = nullptr;
    retire_segment(old);
  }
  if (live_bytes_ + record_bytes + (writing_ == nullptr ? spool::segment_header_bytes : 0) > options_.max_bytes) {
    overflows_.fetch_add(1, std::memory_order_relaxed);
    if (!full_logged_) {
      full_logged_ = true;
      logger_.log(LogLevel::warn, "spool: spool_max_bytes is used up in " + options_.dir +
                                      "; new batches stay in memory only until it drains (counted in "
                                      "spool_overflows; the backpressure policy acts once memory is full)");
    }
    return Append::full;
  }
  full_logged_ = false;
  if (writing_ == nullptr) {
    writing_ = open_segment();
    if (writing_ == nullptr) return Append::error;
  }
  iovec parts[2] = {{header, sizeof header}, {const_cast<char*>(body.data()), body.size()}};
  ssize_t const written = spool_files::write_parts(writing_->fd, parts, 2, static_cast<off_t>(writing_->bytes));
  if (written != static_cast<ssize_t>(record_bytes)) {
    int const err = written < 0 ? errno : ENOSPC;
    // Leave no torn record behind: the file ends where the last whole one did.
    if (::ftruncate(writing_->fd, static_cast<off_t>(writing_->bytes)) != 0) {
    }
    note_error("writing a batch", err);
    return Append::error;
  }
  batch.spooled = SpoolLocation{writing_, writing_->bytes, static_cast<std::uint32_t>(record_bytes), meta.messages};
  writing_->bytes += record_bytes;
  writing_->pending += 1;
  writing_->dirty = true;
  live_bytes_ += record_bytes;
  spooled_events_.fetch_add(meta.messages, std::memory_order_relaxed);
  spooled_bytes_.fetch_add(record_bytes, std::memory_order_relaxed);
  return Append::spooled;
}

void Spool::settle(SpoolLocation const& where) noexcept {
  if (!where) return;
  std::lock_guard lock(mutex_);
  SpoolSegment* segment = where.segment;
  std::uint8_t const mark = spool::batch_settled_mark;
  if (::pwrite(segment->fd, &mark, 1, static_cast<off_t>(where.offset + spool::batch_off_settled)) != 1) {
    // Not fatal: recovery would send the batch again (a duplicate the server drops).
    errors_.fetch_add(1, std::memory_order_relaxed);
  }
  segment->dirty = true;
  spooled_events_.fetch_sub(std::min<std::uint64_t>(where.messages, spooled_events_.load()), std::memory_order_relaxed);
  spooled_bytes_.fetch_sub(std::min<std::uint64_t>(where.record_bytes, spooled_bytes_.load()),
                           std::memory_order_relaxed);
  if (segment->pending > 0) --segment->pending;
  retire_segment(segment);
}

bool Spool::read(SpoolLocation const& where, std::string& record) noexcept {
  try {
    record.resize(where.record_bytes);
  } catch (...) {
    return false;
  }
  int fd = -1;
  {
    std::lock_guard lock(mutex_);
    fd = ::dup(where.segment->fd);
  }
  if (fd < 0) return false;
  std::size_t done = 0;
  while (done < record.size()) {
    ssize_t const n = ::pread(fd, record.data() + done, record.size() - done, static_cast<off_t>(where.offset + done));
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (done != record.size() || !spool::verify_batch_record(record)) {
    corrupt_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

RecoveredArena* Spool::next_recovered() noexcept {
  if (recovered_waiting_.load(std::memory_order_acquire) == 0) return nullptr;
  std::lock_guard lock(mutex_);
  if (recovered_arenas_.empty()) return nullptr;
  try {
    recovering_.push_back(std::move(recovered_arenas_.front()));
  } catch (...) {
    return nullptr;
  }
  recovered_arenas_.pop_front();
  return recovering_.back().get();
}

void Spool::recovered_done(RecoveredArena* arena) noexcept {
  std::lock_guard lock(mutex_);
  ::munmap(arena->mapping, arena->mapping_bytes);
  for (auto const& path : arena->remove_paths) ::unlink(path.c_str());
  AdoptedDir* dir = arena->dir;
  std::erase_if(recovering_, [&](auto const& a) { return a.get() == arena; });
  recovered_waiting_.fetch_sub(1, std::memory_order_release);
  dir->arena_pending = false;
  maybe_remove_dir(dir);
}

bool Spool::take_adopted(std::deque<SpoolTicket>& out) {
  if (!adopted_waiting_.load(std::memory_order_acquire)) return false;
  std::lock_guard lock(mutex_);
  bool const any = !adopted_tickets_.empty();
  while (!adopted_tickets_.empty()) {
    out.push_back(adopted_tickets_.front());
    adopted_tickets_.pop_front();
  }
  adopted_waiting_.store(false, std::memory_order_release);
  return any;
}

void Spool::adopt_dead_siblings() noexcept {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(options_.dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string_view const name = e->d_name;
      if (name.starts_with('.') || name == own_name_) continue;  // hidden: a client being created
      try {
        names.emplace_back(name);
      } catch (...) {
      }
    }
    ::closedir(d);
  }
  for (auto const& name : names) {
    {
      std::lock_guard lock(mutex_);
      if (adopted_names_.contains(name)) continue;
    }
    std::string const path = options_.dir + "/" + name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    int const fd = ::open((path + "/lock").c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) continue;  // not a client's directory (or one being created: it has a lock soon)
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);  // its owner is alive
      continue;
    }
    adopt(name, fd);
  }
}

void Spool::adopt(std::string const& name, int lock_fd) noexcept {
  try {
    auto dir = std::make_unique<AdoptedDir>();
    dir->path = options_.dir + "/" + name;
    dir->lock_fd = lock_fd;
    AdoptedDir* raw = dir.get();
    {
      std::lock_guard lock(mutex_);
      adopted_names_.insert(name);
      adopted_.push_back(std::move(dir));
    }
    std::vector<std::string> files;
    if (DIR* d = ::opendir(raw->path.c_str())) {
      while (dirent* e = ::readdir(d)) files.emplace_back(e->d_name);
      ::closedir(d);
    }
    std::sort(files.begin(), files.end());
    for (auto const& file : files) {
      if (file.starts_with("seg-")) adopt_segment(*raw, raw->path + "/" + file);
    }
    if (std::any_of(files.begin(), files.end(), ArenaFile::is_arena_file)) adopt_arena(*raw);
    std::lock_guard lock(mutex_);
    raw->adopting = false;
    maybe_remove_dir(raw);
  } catch (...) {
    // Out of memory part-way: what was adopted is delivered; the rest waits for a later pass.
  }
}

void Spool::adopt_segment(AdoptedDir& dir, std::string const& path) {
  int const fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return;
  std::string bytes;
  if (!spool_files::read_all(fd, bytes)) {
    ::close(fd);
    dir.keep = true;
    return;
  }
  spool::SegmentScan const scan = spool::scan_segment(bytes);
  corrupt_.fetch_add(scan.corrupt + (scan.usable ? 0 : 1), std::memory_order_relaxed);
  if (!scan.usable) {
    ::close(fd);
    // A newer format (or not a segment at all): left as it is for a reader that knows it.
    if (scan.newer_version || !bytes.empty()) dir.keep = true;
    if (bytes.empty()) ::unlink(path.c_str());
    return;
  }
  auto segment = std::make_unique<SpoolSegment>();
  segment->fd = fd;
  segment->path = path;
  segment->bytes = bytes.size();
  segment->dir = &dir;
  std::deque<SpoolTicket> tickets;
  std::uint64_t events = 0, spooled = 0;
  for (auto const& entry : scan.entries) {
    if (entry.settled) continue;
    SpoolTicket ticket;
    ticket.where =
        SpoolLocation{segment.get(), entry.offset,
                      static_cast<std::uint32_t>(spool::batch_header_bytes + entry.body_bytes), entry.meta.messages};
    events += entry.meta.messages;
    spooled += ticket.where.record_bytes;
    tickets.push_back(ticket);
  }
  segment->pending = tickets.size();
  std::lock_guard lock(mutex_);
  if (tickets.empty()) {
    ::close(fd);
    ::unlink(path.c_str());
    return;
  }
  ++dir.segments;
  live_bytes_ += segment->bytes;
  segments_.push_back(std::move(segment));
  for (auto const& t : tickets) adopted_tickets_.push_back(t);
  recovered_.fetch_add(events, std::memory_order_relaxed);
  spooled_events_.fetch_add(events, std::memory_order_relaxed);
  spooled_bytes_.fetch_add(spooled, std::memory_order_relaxed);
  adopted_waiting_.store(true, std::memory_order_release);
}

void Spool::adopt_arena(AdoptedDir& dir) {
  std::vector<std::string> const removal = ArenaFile::removal_order(dir.path);
  auto remove_all = [&] {
    for (auto const& path : removal) ::unlink(path.c_str());
  };
  // The freshest copy that reads: the live one in memory while it exists (a process death),
  // else the one on disk (an OS crash emptied the memory file system).
  bool any = false;
  std::uint64_t corrupt = 0;
  for (std::string const& path : ArenaFile::candidates(dir.path)) {
    int const fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_size == 0) {
      ::close(fd);
      continue;
    }
    any = true;
    auto const size = static_cast<std::size_t>(st.st_size);
    void* map = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED) continue;
    spool::ArenaScan scan = spool::scan_arena(std::string_view(static_cast<char const*>(map), size), is_valid_json);
    corrupt = scan.corrupt + (scan.usable ? 0 : 1);
    if (!scan.usable) {
      ::munmap(map, size);
      continue;
    }
    corrupt_.fetch_add(corrupt, std::memory_order_relaxed);
    if (scan.records.empty()) {
      ::munmap(map, size);
      remove_all();
      return;
    }
    auto arena = std::make_unique<RecoveredArena>();
    arena->mapping = map;
    arena->mapping_bytes = size;
    arena->remove_paths = removal;
    arena->dir = &dir;
    arena->records = std::move(scan.records);
    std::lock_guard lock(mutex_);
    dir.arena_pending = true;
    recovered_.fetch_add(arena->records.size(), std::memory_order_relaxed);
    recovered_arenas_.push_back(std::move(arena));
    recovered_waiting_.fetch_add(1, std::memory_order_release);
    return;
  }
  corrupt_.fetch_add(corrupt, std::memory_order_relaxed);
  if (any) {
    dir.keep = true;  // none reads: left for a reader that knows it
  } else {
    remove_all();  // empty files, or only the name of a live copy that is gone
  }
}

void Spool::fill(Stats& stats) const noexcept {
  stats.spooled_events = spooled_events_.load(std::memory_order_relaxed);
  stats.spooled_bytes = spooled_bytes_.load(std::memory_order_relaxed);
  stats.recovered = recovered_.load(std::memory_order_relaxed);
  stats.spool_corrupt = corrupt_.load(std::memory_order_relaxed);
  stats.spool_errors = errors_.load(std::memory_order_relaxed);
  stats.spool_overflows = overflows_.load(std::memory_order_relaxed);
}

}  // namespace htevents::inline v0::detail
