#include "ingest/parse/contained/subprocess.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <string>
#include <thread>
#include <vector>

namespace ingest::parse {
namespace {

using std::chrono::milliseconds;

SubprocessRun RunShell(const std::string& script, SubprocessLimits limits = {}) {
  auto run = RunSubprocess({"/bin/sh", "-c", script}, limits);
  EXPECT_TRUE(run.ok()) << run.status().ToString();
  return run.ok() ? std::move(*run) : SubprocessRun{};
}

// After every run the child has been reaped: this process has no children left.
void ExpectNoChildren() {
  int status = 0;
  EXPECT_EQ(::waitpid(-1, &status, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(SubprocessTest, CollectsStdoutStderrAndExitStatus) {
  SubprocessRun run = RunShell("printf 'out\\0put'; echo oops >&2; exit 3");
  EXPECT_EQ(run.out, std::string("out\0put", 7));
  EXPECT_EQ(run.err, "oops\n");
  ASSERT_TRUE(WIFEXITED(run.wait_status));
  EXPECT_EQ(WEXITSTATUS(run.wait_status), 3);
  EXPECT_FALSE(run.killed_at_deadline);
  EXPECT_FALSE(run.stdout_overflow);
  ExpectNoChildren();
}

TEST(SubprocessTest, StdinIsEmpty) {
  SubprocessRun run = RunShell("wc -c");
  EXPECT_EQ(run.out.substr(run.out.find_first_not_of(' ')), "0\n");
}

TEST(SubprocessTest, ReportsTheSignalThatKilledTheChild) {
  SubprocessRun run = RunShell("kill -SEGV $$");
  ASSERT_TRUE(WIFSIGNALED(run.wait_status));
  EXPECT_EQ(WTERMSIG(run.wait_status), SIGSEGV);
  ExpectNoChildren();
}

// The child ignores SIGTERM: only SIGKILL at the deadline ends it.
TEST(SubprocessTest, KillsAChildThatIgnoresSigtermAtTheDeadline) {
  SubprocessLimits limits;
  limits.wall = milliseconds(300);
  SubprocessRun run = RunShell("trap '' TERM; echo started; while :; do sleep 1; done", limits);
  EXPECT_TRUE(run.killed_at_deadline);
  EXPECT_EQ(run.out, "started\n");
  ASSERT_TRUE(WIFSIGNALED(run.wait_status));
  EXPECT_EQ(WTERMSIG(run.wait_status), SIGKILL);
  ExpectNoChildren();
}

// Closing stdout and stderr does not end the supervision: the deadline still applies.
TEST(SubprocessTest, AChildThatClosesItsPipesIsStillBounded) {
  SubprocessLimits limits;
  limits.wall = milliseconds(300);
  SubprocessRun run = RunShell("exec >&- 2>&-; trap '' TERM; while :; do sleep 1; done", limits);
  EXPECT_TRUE(run.killed_at_deadline);
  ExpectNoChildren();
}

TEST(SubprocessTest, StopsAChildThatWritesTooMuch) {
  SubprocessLimits limits;
  limits.max_stdout_bytes = 100000;
  SubprocessRun run = RunShell("yes 0123456789", limits);
  EXPECT_TRUE(run.stdout_overflow);
  EXPECT_EQ(run.out.size(), 100000u);
  ExpectNoChildren();
}

// Lots of stderr while stdout is still open: both pipes are drained, no deadlock.
TEST(SubprocessTest, DrainsBothPipesWithoutDeadlock) {
  SubprocessLimits limits;
  limits.keep_stderr_bytes = 10;
  SubprocessRun run = RunShell("head -c 1000000 /dev/zero >&2; echo done", limits);
  EXPECT_FALSE(run.killed_at_deadline);
  EXPECT_EQ(run.out, "done\n");
  EXPECT_EQ(run.err.size(), 10u);
}

TEST(SubprocessTest, ConcurrentRunsEachGetTheirOwnOutput) {
  std::vector<std::thread> threads;
  std::vector<std::string> outs(8);
  for (size_t i = 0; i < outs.size(); ++i) {
    threads.emplace_back([i, &outs] {
      for (int k = 0; k < 5; ++k) {
        auto run = RunSubprocess({"/bin/sh", "-c", "echo $0", std::to_string(i)}, {});
        if (run.ok()) outs[i] += run->out;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < outs.size(); ++i) {
    std::string want;
    for (int k = 0; k < 5; ++k) want += std::to_string(i) + "\n";
    EXPECT_EQ(outs[i], want);
  }
  ExpectNoChildren();
}

TEST(SubprocessTest, MissingProgramIsASpawnFailure) {
  auto run = RunSubprocess({"/nonexistent/ingestd"}, {});
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(run.status().reason(), "parse_spawn_failed");
}

}  // namespace
}  // namespace ingest::parse
