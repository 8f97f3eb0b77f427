#pragma once
// A child process that does some work, reports a count to the parent and dies by SIGKILL: a
// real process death for the spool's recovery tests. Fork before the test starts any thread
// (a fork while other threads hold allocator locks can leave the child stuck).

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>

namespace htevents::testing {

// Runs `work(die)` in a child; `work` calls `die(count)` (e.g. the events it got ok for) while
// what it built is still alive, and die reports the count and kills the child with SIGKILL
// (nothing is destroyed or flushed). Returns that count, or 0 when the child did not report it
// or did not die by SIGKILL.
template <class Work>
std::uint64_t run_and_kill(Work&& work) {
  int report[2];
  if (::pipe(report) != 0) return 0;
  pid_t const child = ::fork();
  if (child < 0) return 0;
  if (child == 0) {
    ::close(report[0]);
    auto die = [fd = report[1]](std::uint64_t count) {
      if (::write(fd, &count, sizeof count) != sizeof count) ::_exit(3);
      ::kill(::getpid(), SIGKILL);
    };
    work(die);
    ::_exit(4);  // `work` returned without calling die: the parent sees no report
  }
  ::close(report[1]);
  std::uint64_t count = 0;
  if (::read(report[0], &count, sizeof count) != static_cast<ssize_t>(sizeof count)) count = 0;
  ::close(report[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) return 0;
  return count;
}

}  // namespace htevents::testing
