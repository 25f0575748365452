// ContainedParser (parse/contained/contained_parser.h) against the real ingestd binary: the
// subprocess returns exactly what LocalParser returns in-process, and every way a parse can go
// wrong (crash, abort, stack overflow, a hang that ignores SIGTERM, a CPU spin, a memory blow-up,
// an output flood, an exit without a result) ends as one permanent failure with its code while
// other parses, concurrent ones included, go on. The misbehaviour comes from the child's test
// hooks (parse_child.h), enabled by INGESTD_TEST_HOOKS=1 in this process's environment.
#include "ingest/parse/contained/contained_parser.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "ingest/governor/retry_policy.h"
#include "ingest/parse/local/local_parser.h"
#include "ingest/parse/testing/minimal_pdf.h"
#include "ingest/parse/testing/zip_writer.h"

namespace ingest::parse {
namespace {

using std::chrono::milliseconds;

class ContainedParserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("INGESTD_TEST_HOOKS", "1", 1);
    dir_ = std::filesystem::temp_directory_path() /
           ("contained_parser_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    ::unsetenv("INGESTD_TEST_HOOKS");
    std::filesystem::remove_all(dir_);
  }

  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  static ContainedParserOptions Options() {
    ContainedParserOptions o;
    o.sandbox.executable = INGESTD_BINARY;
    o.sandbox.timeout = milliseconds(20000);
    o.sandbox.cpu_seconds = 20;
    o.sandbox.memory_bytes = 1024ll << 20;
    return o;
  }

  Result<ParsedDocument> ParseHook(const std::string& action, ContainedParserOptions o) {
    ParseInput in;
    in.path = Write(action + ".txt", "INGESTD-TEST-HOOK:" + action + "\nrest of the file\n");
    in.filename = action + ".txt";
    return ContainedParser(o).Parse(in);
  }

  static void ExpectPermanent(const Result<ParsedDocument>& r, const std::string& reason) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().reason(), reason) << r.status().ToString();
    EXPECT_EQ(governor::Classify(r.status()), governor::ErrorClass::kPermanent)
        << r.status().ToString();
  }

  std::filesystem::path dir_;
};

// The same bytes in, the same document out, field by field, for every format.
TEST_F(ContainedParserTest, OutputEqualsInProcessParse) {
  const std::vector<std::pair<std::string, std::string>> files = {
      {"notes.md", "# Notes\n\nSome *text* with\ttabs and \xc3\xa9.\n"},
      {"page.html", "<html><body><h1>T</h1><p>a <b>b</b></p><ul><li>x</li></ul></body></html>"},
      {"three.pdf",
       testing::MakePdf({testing::PdfTextAt(72, 700, "first page"), testing::PdfRectangle(),
                         testing::PdfTextAt(72, 700, "third page")})},
      {"doc.docx", testing::MakeDocx(testing::DocxParagraph("Heading", "Heading1") +
                                     testing::DocxParagraph("Body text"))},
      {"nul.txt", std::string("a\0b\xff", 4)},
  };
  const ContainedParserOptions o = Options();
  ContainedParser contained(o);
  LocalParser local(o.local);
  EXPECT_EQ(contained.Name(), local.Name());
  EXPECT_EQ(contained.ConfigHash(), local.ConfigHash());
  for (const auto& [name, bytes] : files) {
    ParseInput in;
    in.path = Write(name, bytes);
    in.filename = name;
    auto want = local.Parse(in);
    auto got = contained.Parse(in);
    ASSERT_EQ(got.ok(), want.ok()) << name << ": " << got.status().ToString();
    if (!want.ok()) {
      EXPECT_EQ(got.status().ToString(), want.status().ToString()) << name;
      continue;
    }
    EXPECT_EQ(got->type, want->type) << name;
    EXPECT_EQ(got->parser, want->parser) << name;
    EXPECT_EQ(got->detail_json, want->detail_json) << name;
    ASSERT_EQ(got->pages.size(), want->pages.size()) << name;
    for (size_t i = 0; i < want->pages.size(); ++i) {
      EXPECT_EQ(got->pages[i].page, want->pages[i].page) << name;
      EXPECT_EQ(got->pages[i].text, want->pages[i].text) << name;
    }
  }
}

// The child's own errors come back unchanged, code, reason and message.
TEST_F(ContainedParserTest, ParseErrorsPassThrough) {
  ContainedParser contained(Options());
  LocalParser local(Options().local);
  for (const auto& [name, bytes] : std::vector<std::pair<std::string, std::string>>{
           {"empty.txt", ""}, {"bad.pdf", "%PDF-1.4\nnot really"}, {"bin.dat", "\x01\x02\x03"}}) {
    ParseInput in;
    in.path = Write(name, bytes);
    in.filename = name;
    auto got = contained.Parse(in);
    auto want = local.Parse(in);
    ASSERT_FALSE(got.ok()) << name;
    EXPECT_EQ(got.status().ToString(), want.status().ToString()) << name;
  }
  ParseInput missing;
  missing.path = (dir_ / "missing.pdf").string();
  EXPECT_EQ(contained.Parse(missing).status().code(), StatusCode::kNotFound);
}

TEST_F(ContainedParserTest, CrashesAreContained) {
  ExpectPermanent(ParseHook("crash", Options()), "parse_crashed");
  ExpectPermanent(ParseHook("abort", Options()), "parse_crashed");
  ExpectPermanent(ParseHook("stack", Options()), "parse_crashed");
  ExpectPermanent(ParseHook("exit", Options()), "parse_crashed");
}

// The hook ignores SIGTERM and sleeps: only the wall-clock SIGKILL ends it.
TEST_F(ContainedParserTest, AHangIgnoringSigtermTimesOut) {
  ContainedParserOptions o = Options();
  o.sandbox.timeout = milliseconds(500);
  ExpectPermanent(ParseHook("hang", o), "parse_timeout");
}

// A CPU spin hits RLIMIT_CPU long before the (generous) wall deadline.
TEST_F(ContainedParserTest, ACpuSpinHitsTheCpuLimit) {
  ContainedParserOptions o = Options();
  o.sandbox.cpu_seconds = 1;
  o.sandbox.timeout = milliseconds(60000);
  auto r = ParseHook("spin", o);
  ExpectPermanent(r, "parse_timeout");
  EXPECT_NE(r.status().message().find("CPU"), std::string::npos) << r.status().ToString();
}

TEST_F(ContainedParserTest, MemoryBlowUpIsTooLarge) {
  ContainedParserOptions o = Options();
  o.sandbox.memory_bytes = 256ll << 20;
  ExpectPermanent(ParseHook("oom", o), "parse_too_large");
}

TEST_F(ContainedParserTest, OutputFloodIsTooLarge) {
  ContainedParserOptions o = Options();
  o.sandbox.max_output_bytes = 1 << 20;
  ExpectPermanent(ParseHook("flood", o), "parse_too_large");
}

// Without INGESTD_TEST_HOOKS the hook line is just text.
TEST_F(ContainedParserTest, HooksNeedTheEnvironmentSwitch) {
  ::unsetenv("INGESTD_TEST_HOOKS");
  auto r = ParseHook("crash", Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->pages.size(), 1u);
  EXPECT_EQ(r->pages[0].text, "INGESTD-TEST-HOOK:crash\nrest of the file\n");
}

// Crashing, hanging and normal documents parsed at the same time from several threads: each
// gets its own outcome, and no child is left behind (reaped, not a zombie). Only the hanging
// document's parser has the short wall clock: a crash must be told from a timeout by what
// happened, not by how fast a starved machine got the child to overflow its stack (under
// `scripts/test.sh --stress`, a 2 s limit for every child turned a stack overflow into
// parse_timeout).
TEST_F(ContainedParserTest, ConcurrentParsesAreIndependent) {
  ContainedParser parser(Options());
  ContainedParserOptions short_clock = Options();
  short_clock.sandbox.timeout = milliseconds(2000);
  ContainedParser hang_parser(short_clock);
  ParseInput good;
  good.path = Write("good.md", "# Good\n\nstill parsed\n");
  good.filename = "good.md";
  std::vector<std::string> outcomes(6);
  std::vector<std::thread> threads;
  const std::vector<std::string> actions = {"crash", "hang", "", "stack", "", ""};
  for (size_t i = 0; i < actions.size(); ++i) {
    threads.emplace_back([&, i] {
      ParseInput in = good;
      if (!actions[i].empty()) {
        in.path = Write("t" + std::to_string(i) + ".txt", "INGESTD-TEST-HOOK:" + actions[i] + "\n");
      }
      auto r = (actions[i] == "hang" ? hang_parser : parser).Parse(in);
      outcomes[i] = r.ok() ? r->pages.at(0).text : r.status().reason();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(outcomes[0], "parse_crashed");
  EXPECT_EQ(outcomes[1], "parse_timeout");
  EXPECT_EQ(outcomes[2], "# Good\n\nstill parsed\n");
  EXPECT_EQ(outcomes[3], "parse_crashed");
  EXPECT_EQ(outcomes[4], "# Good\n\nstill parsed\n");
  EXPECT_EQ(outcomes[5], "# Good\n\nstill parsed\n");
  int status = 0;
  EXPECT_EQ(::waitpid(-1, &status, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST_F(ContainedParserTest, MissingExecutableIsRetryable) {
  ContainedParserOptions o = Options();
  o.sandbox.executable = "/nonexistent/ingestd";
  ParseInput in;
  in.path = Write("a.md", "x");
  auto r = ContainedParser(o).Parse(in);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "parse_spawn_failed");
  EXPECT_EQ(governor::Classify(r.status()), governor::ErrorClass::kTransient);
}

}  // namespace
}  // namespace ingest::parse
