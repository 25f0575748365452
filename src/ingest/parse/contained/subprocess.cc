#include "ingest/parse/contained/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

extern char** environ;

namespace ingest::parse {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  int get() const { return fd_; }
  void Reset(int fd) {
    Close();
    fd_ = fd;
  }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

Status SpawnError(std::string_view what, int err) {
  return Unavailable(
      "cannot start the parse subprocess (" + std::string(what) + "): " + std::strerror(err),
      "parse_spawn_failed");
}

// Kills and reaps the child on every path out of RunSubprocess, so neither a running child nor
// a zombie is left behind whatever happens in between.
class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;
  ~ChildGuard() {
    if (pid_ <= 0) return;
    Kill();
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  void Kill() const {
    // The child leads its own process group: anything it started goes too.
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
  }
  // Non-blocking reap. True (and the guard disarmed) once the child has exited.
  bool TryReap(int* status, struct rusage* usage) {
    const pid_t r = ::wait4(pid_, status, WNOHANG, usage);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
      // ECHILD: someone reaped it (SIGCHLD ignored process-wide); its status is lost, and the
      // caller judges the child by its output alone.
      if (r < 0) *status = 0;
      pid_ = -1;
      return true;
    }
    return false;
  }
  // Blocking reap (after Kill).
  void Reap(int* status, struct rusage* usage) {
    while (::wait4(pid_, status, 0, usage) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

 private:
  pid_t pid_;
};

class SpawnConfig {
 public:
  SpawnConfig() {
    ::posix_spawn_file_actions_init(&actions_);
    ::posix_spawnattr_init(&attr_);
  }
  ~SpawnConfig() {
    ::posix_spawn_file_actions_destroy(&actions_);
    ::posix_spawnattr_destroy(&attr_);
  }
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attr_;
};

}  // namespace

Result<SubprocessRun> RunSubprocess(const std::vector<std::string>& argv,
                                    const SubprocessLimits& limits) {
  if (argv.empty()) return InvalidArgument("no program to run", "parse_spawn_failed");
  int out_pipe[2], err_pipe[2];
  // O_CLOEXEC: a subprocess spawned at the same moment by another worker thread must not
  // inherit this child's pipe ends (it would hold the write end open and hide the EOF).
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return SpawnError("pipe", errno);
  Fd out_r(out_pipe[0]), out_w(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return SpawnError("pipe", errno);
  Fd err_r(err_pipe[0]), err_w(err_pipe[1]);

  SpawnConfig sc;
  ::posix_spawn_file_actions_addopen(&sc.actions_, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(&sc.actions_, out_w.get(), 1);
  ::posix_spawn_file_actions_adddup2(&sc.actions_, err_w.get(), 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  // Descriptors some library opened without O_CLOEXEC (sockets, database files) stay here.
  ::posix_spawn_file_actions_addclosefrom_np(&sc.actions_, 3);
#endif
  // A clean signal state: the worker may block or ignore signals (SIGPIPE, shutdown signals
  // handled by a dedicated thread); the child starts with defaults and nothing blocked.
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGXCPU, SIGXFSZ, SIGUSR1,
                  SIGUSR2, SIGALRM}) {
    sigaddset(&defaults, sig);
  }
  ::posix_spawnattr_setsigmask(&sc.attr_, &empty);
  ::posix_spawnattr_setsigdefault(&sc.attr_, &defaults);
  ::posix_spawnattr_setpgroup(&sc.attr_, 0);
  ::posix_spawnattr_setflags(
      &sc.attr_, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  std::vector<char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  const auto start = SteadyClock::now();
  const auto deadline = start + limits.wall;
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, cargv[0], &sc.actions_, &sc.attr_, cargv.data(), environ);
  if (rc != 0) return SpawnError(argv[0], rc);
  ChildGuard child(pid);
  out_w.Close();
  err_w.Close();
  ::fcntl(out_r.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(err_r.get(), F_SETFL, O_NONBLOCK);

  SubprocessRun run;
  char buf[64 * 1024];
  const uint64_t max_out = static_cast<uint64_t>(std::max<int64_t>(0, limits.max_stdout_bytes));
  // Both pipes are drained together: a child blocked writing a full stderr pipe while we wait
  // on stdout (or the reverse) would otherwise deadlock until the deadline.
  while (out_r.get() >= 0 || err_r.get() >= 0) {
    const auto now = SteadyClock::now();
    if (now >= deadline) {
      run.killed_at_deadline = true;
      break;
    }
    struct pollfd fds[2];
    int n = 0;
    for (Fd* fd : {&out_r, &err_r}) {
      if (fd->get() >= 0) fds[n++] = {fd->get(), POLLIN, 0};
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    const int timeout = static_cast<int>(std::min<int64_t>(left.count() + 1, 1 << 30));
    const int ready = ::poll(fds, static_cast<nfds_t>(n), timeout);
    if (ready < 0 && errno != EINTR) break;  // cannot happen with valid fds; reap below
    if (ready <= 0) continue;
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      const bool is_out = fds[i].fd == out_r.get();
      const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (got <= 0) {
        (is_out ? out_r : err_r).Close();
        continue;
      }
      if (is_out) {
        run.out.append(buf, static_cast<size_t>(got));
        if (run.out.size() > max_out) {
          run.stdout_overflow = true;
          run.out.resize(static_cast<size_t>(max_out));
        }
      } else if (run.err.size() < limits.keep_stderr_bytes) {
        run.err.append(
            buf, std::min(static_cast<size_t>(got), limits.keep_stderr_bytes - run.err.size()));
      }
    }
    if (run.stdout_overflow) break;
  }
  if (run.killed_at_deadline || run.stdout_overflow) {
    child.Kill();
    child.Reap(&run.wait_status, &run.usage);
  } else {
    // Both pipes are closed, but a child can close its descriptors and keep running: it still
    // gets only until the deadline.
    auto pause = std::chrono::microseconds(100);
    while (!child.TryReap(&run.wait_status, &run.usage)) {
      if (SteadyClock::now() >= deadline) {
        run.killed_at_deadline = true;
        child.Kill();
        child.Reap(&run.wait_status, &run.usage);
        break;
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(20000));
    }
  }
  run.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start);
  return run;
}

}  // namespace ingest::parse
