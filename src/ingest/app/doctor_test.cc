#include "ingest/app/doctor.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "ingest/app/build_info.h"
#include "ingest/emulate/llamaparse/llamaparse_emulator.h"
#include "ingest/emulate/openai/openai_emulator.h"
#include "ingest/http/http_client.h"
#include "ingest/parse/ocr/ocr.h"
#include "ingest/store/sqlite/sqlite_store.h"
#include "ingest/text/tokenizer.h"

namespace ingest::app {
namespace {

namespace fs = std::filesystem;
using Env = std::map<std::string, std::string>;

class DoctorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ingestd-doctor-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A configuration loaded from `env` alone (no file), data under the test directory.
  config::Config Load(Env env) {
    if (!env.count("INGESTD_DATA_DIR")) env["INGESTD_DATA_DIR"] = dir_ + "/data";
    env_ = env;
    config::LoadOptions o;
    o.env = env;
    o.use_process_env = false;
    if (env.count("INGESTD_PROFILE")) o.profile = env["INGESTD_PROFILE"];
    auto c = config::LoadConfig(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : config::Config{};
  }
  DoctorOptions Options() const {
    DoctorOptions o;
    o.env = env_;
    return o;
  }
  std::string WriteFile(const std::string& name, const std::string& text, mode_t mode) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    chmod(path.c_str(), mode);
    return path;
  }
  static const CheckResult& Find(const std::vector<CheckResult>& checks, const std::string& name) {
    for (const auto& c : checks) {
      if (c.name == name) return c;
    }
    static const CheckResult none{"<missing>", CheckStatus::kFail, "", ""};
    ADD_FAILURE() << "no check " << name;
    return none;
  }

  std::string dir_;
  Env env_;
};

TEST_F(DoctorTest, ConfigOkAndFail) {
  Result<config::Config> good = Load({});
  EXPECT_EQ(CheckConfig(good, "").status, CheckStatus::kOk);
  EXPECT_NE(CheckConfig(good, "").detail.find("profile development"), std::string::npos);
  Result<config::Config> bad =
      InvalidArgument("x.toml:3: unknown key store.urll", "config_invalid");
  const CheckResult r = CheckConfig(bad, "x.toml");
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_NE(r.detail.find("x.toml:3"), std::string::npos);
  EXPECT_FALSE(r.hint.empty());
}

TEST_F(DoctorTest, ProfileRulesWarnOnSqliteInProduction) {
  EXPECT_EQ(CheckProfileRules(Load({})).status, CheckStatus::kOk);
  const CheckResult prod =
      CheckProfileRules(Load({{"INGESTD_PROFILE", "production"}, {"INGESTD_MODE", "real"}}));
  EXPECT_EQ(prod.status, CheckStatus::kWarn);
  EXPECT_NE(prod.hint.find("postgresql://"), std::string::npos);
}

TEST_F(DoctorTest, SqliteStoreNewCurrentBehindAndUnwritable) {
  config::Config c = Load({});
  auto checks = CheckStore(c);
  EXPECT_EQ(Find(checks, "store").status, CheckStatus::kOk);
  EXPECT_NE(Find(checks, "store").detail.find("created at first start"), std::string::npos);
  EXPECT_FALSE(fs::exists(config::SqlitePath(c))) << "doctor must not create the database";

  fs::create_directories(c.store.data_dir);
  {
    auto store = store::OpenSqliteStore(config::SqlitePath(c), Clock::Real());
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->MigrateTo(1).ok());
  }
  checks = CheckStore(c);
  EXPECT_EQ(Find(checks, "store").status, CheckStatus::kOk);
  if (LatestSchemaVersion() > 1) {
    EXPECT_EQ(Find(checks, "schema").status, CheckStatus::kWarn);
    EXPECT_NE(Find(checks, "schema").hint.find("ingestd migrate up"), std::string::npos);
  }
  {
    auto store = store::OpenSqliteStore(config::SqlitePath(c), Clock::Real());
    ASSERT_TRUE((*store)->MigrateTo(LatestSchemaVersion()).ok());
  }
  EXPECT_EQ(Find(CheckStore(c), "schema").status, CheckStatus::kOk);

  WriteFile("plain", "not a directory", 0644);
  config::Config under_file = Load({{"INGESTD_DATA_DIR", dir_ + "/plain/data"}});
  EXPECT_EQ(Find(CheckStore(under_file), "store").status, CheckStatus::kFail);
}

TEST_F(DoctorTest, UnreachablePostgresFailsWithoutShowingThePassword) {
  config::Config c = Load({{"INGESTD_STORE", "postgresql://ingest:s3cret-pw@127.0.0.1:1/ingestd"}});
  auto checks = CheckStore(c);
  const CheckResult& store = Find(checks, "store");
  EXPECT_EQ(store.status, CheckStatus::kFail);
  EXPECT_EQ(store.detail.find("s3cret-pw"), std::string::npos) << store.detail;
  EXPECT_NE(store.detail.find("postgresql://ingest@127.0.0.1:1/ingestd"), std::string::npos)
      << store.detail;
  EXPECT_TRUE(AnyFailed(checks));
}

TEST_F(DoctorTest, DataDirWritableLaterAndUnwritable) {
  config::Config later = Load({});
  const CheckResult r = CheckDataDir(later);
  EXPECT_EQ(r.status, CheckStatus::kOk);
  EXPECT_NE(r.detail.find("created at first start"), std::string::npos);
  fs::create_directories(later.store.data_dir + "/blobs");
  EXPECT_EQ(CheckDataDir(later).status, CheckStatus::kOk);
  // A path under a regular file can never be created, whoever runs the test (root too).
  WriteFile("plain", "x", 0644);
  const CheckResult bad = CheckDataDir(Load({{"INGESTD_DATA_DIR", dir_ + "/plain/data"}}));
  EXPECT_EQ(bad.status, CheckStatus::kFail);
  EXPECT_NE(bad.hint.find("INGESTD_DATA_DIR"), std::string::npos);
  // The blob store is a file instead of a directory.
  fs::create_directories(dir_ + "/d2");
  WriteFile("d2/blobs", "x", 0644);
  EXPECT_EQ(CheckDataDir(Load({{"INGESTD_DATA_DIR", dir_ + "/d2"}})).status, CheckStatus::kFail);
}

TEST_F(DoctorTest, BlobsNamesTheStoreAndChecksRemoteOnes) {
  const CheckResult folder = CheckBlobs(Load({}));
  EXPECT_EQ(folder.status, CheckStatus::kOk);
  EXPECT_EQ(folder.detail, "folder " + dir_ + "/data/blobs");

  // Nothing listens on port 1: both remote stores fail with a hint, and no secret is shown.
  const CheckResult s3 = CheckBlobs(Load({{"INGESTD_BLOBS_URL", "s3://bucket/pre"},
                                          {"INGESTD_BLOBS_S3_ENDPOINT", "http://127.0.0.1:1"},
                                          {"AWS_ACCESS_KEY_ID", "fake-id-for-doctor"},
                                          {"AWS_SECRET_ACCESS_KEY", "fake-secret-for-doctor"}}));
  EXPECT_EQ(s3.status, CheckStatus::kFail);
  EXPECT_NE(s3.detail.find("s3 s3://bucket/pre at http://127.0.0.1:1"), std::string::npos);
  EXPECT_NE(s3.hint.find("s3_endpoint"), std::string::npos);
  EXPECT_EQ(s3.detail.find("fake-secret-for-doctor"), std::string::npos);
  EXPECT_EQ(s3.detail.find("fake-id-for-doctor"), std::string::npos);

  const CheckResult pg =
      CheckBlobs(Load({{"INGESTD_BLOBS_URL", "postgresql://u:fake-pw@127.0.0.1:1/x"}}));
  EXPECT_EQ(pg.status, CheckStatus::kFail);
  EXPECT_NE(pg.detail.find("postgresql postgresql://u:***@127.0.0.1:1/x"), std::string::npos);
  EXPECT_EQ(pg.detail.find("fake-pw"), std::string::npos);
}

TEST_F(DoctorTest, FreeSpaceThresholds) {
  DoctorOptions o;
  o.warn_free_bytes = 1000;
  o.fail_free_bytes = 100;
  EXPECT_EQ(ClassifyFreeSpace(5000, o), CheckStatus::kOk);
  EXPECT_EQ(ClassifyFreeSpace(500, o), CheckStatus::kWarn);
  EXPECT_EQ(ClassifyFreeSpace(50, o), CheckStatus::kFail);
  config::Config c = Load({});
  o.fail_free_bytes = 0;
  o.warn_free_bytes = 0;
  EXPECT_EQ(CheckFreeSpace(c, o).status, CheckStatus::kOk);
  o.fail_free_bytes = UINT64_MAX;
  o.warn_free_bytes = UINT64_MAX;
  const CheckResult full = CheckFreeSpace(c, o);
  EXPECT_EQ(full.status, CheckStatus::kFail);
  EXPECT_NE(full.detail.find("free"), std::string::npos);
}

TEST_F(DoctorTest, SecretsPresentMissingAndWhereFrom) {
  // Local embedder and parser: no key needed. (Load first: it sets the environment Options()
  // hands to the checks.)
  config::Config c = Load({});
  auto checks = CheckSecrets(c, Options());
  EXPECT_FALSE(AnyFailed(checks));
  EXPECT_NE(Find(checks, "secret:openai.api_key").detail.find("not needed"), std::string::npos);

  c = Load({{"INGESTD_EMBEDDER", "openai"}});
  checks = CheckSecrets(c, Options());
  EXPECT_EQ(Find(checks, "secret:openai.api_key").status, CheckStatus::kFail);
  EXPECT_NE(Find(checks, "secret:openai.api_key").hint.find("OPENAI_API_KEY_FILE"),
            std::string::npos);

  c = Load({{"INGESTD_EMBEDDER", "openai"}, {"OPENAI_API_KEY", "sk-fake-value"}});
  checks = CheckSecrets(c, Options());
  const CheckResult& env = Find(checks, "secret:openai.api_key");
  EXPECT_EQ(env.status, CheckStatus::kOk);
  EXPECT_NE(env.detail.find("OPENAI_API_KEY"), std::string::npos);
  EXPECT_EQ(env.detail.find("sk-fake-value"), std::string::npos);

  // Production prefers files.
  c = Load({{"INGESTD_PROFILE", "production"},
            {"INGESTD_EMBEDDER", "openai"},
            {"OPENAI_API_KEY", "sk-fake-value"}});
  checks = CheckSecrets(c, Options());
  EXPECT_EQ(Find(checks, "secret:openai.api_key").status, CheckStatus::kWarn);

  // parse.parser = auto without a key parses locally: a warning, not a failure.
  c = Load({{"INGESTD_PARSER", "auto"}});
  checks = CheckSecrets(c, Options());
  EXPECT_EQ(Find(checks, "secret:llamaparse.api_key").status, CheckStatus::kWarn);
  c = Load({{"INGESTD_PARSER", "llamaparse"}});
  checks = CheckSecrets(c, Options());
  EXPECT_EQ(Find(checks, "secret:llamaparse.api_key").status, CheckStatus::kFail);
}

TEST_F(DoctorTest, SecretFilesReadableByOthersFail) {
  chmod(dir_.c_str(), 0755);  // so "others" can reach files in it
  // Group-readable warns only for a group other than the process's own; as root the test can
  // hand the file to another group.
  const CheckStatus foreign_group = geteuid() == 0 ? CheckStatus::kWarn : CheckStatus::kOk;
  for (auto [mode, want] : {std::pair{0600, CheckStatus::kOk}, std::pair{0400, CheckStatus::kOk},
                            std::pair{0640, foreign_group}, std::pair{0644, CheckStatus::kFail}}) {
    const std::string path =
        WriteFile("key" + std::to_string(mode), "sk-from-file\n", static_cast<mode_t>(mode));
    if (geteuid() == 0 && chown(path.c_str(), static_cast<uid_t>(-1), 65534) != 0) {
      ADD_FAILURE() << "chown";
    }
    const config::Config c = Load({{"INGESTD_EMBEDDER", "openai"}, {"OPENAI_API_KEY_FILE", path}});
    auto checks = CheckSecrets(c, Options());
    const CheckResult& r = Find(checks, "secret:openai.api_key");
    EXPECT_EQ(r.status, want) << std::oct << mode << " " << r.detail;
    EXPECT_NE(r.detail.find("OPENAI_API_KEY_FILE"), std::string::npos) << r.detail;
    EXPECT_EQ(r.detail.find("sk-from-file"), std::string::npos) << r.detail;
  }
  // A 0644 file inside a directory others cannot enter is not readable by others.
  fs::create_directories(dir_ + "/private");
  chmod((dir_ + "/private").c_str(), 0700);
  const std::string hidden = WriteFile("private/key", "sk-x\n", 0644);
  EXPECT_EQ(CheckSecretFile("s", "X_FILE", hidden).status, CheckStatus::kOk);
  // The process's own group may read it (Kubernetes fsGroup, systemd credentials).
  const std::string own = WriteFile("own-group", "sk-x\n", 0640);
  EXPECT_EQ(CheckSecretFile("s", "X_FILE", own).status, CheckStatus::kOk);
  EXPECT_EQ(CheckSecretFile("s", "X_FILE", dir_ + "/absent").status, CheckStatus::kFail);
}

TEST_F(DoctorTest, ApiTokens) {
  config::Config c = Load({});
  EXPECT_EQ(CheckApiTokens(c, Options()).status, CheckStatus::kWarn);
  const std::string good = WriteFile("tokens", "alpha 0123456789abcdef0123\n", 0600);
  c = Load({{"INGESTD_API_TOKENS_FILE", good}});
  const CheckResult ok = CheckApiTokens(c, Options());
  EXPECT_EQ(ok.status, CheckStatus::kOk) << ok.detail;
  EXPECT_NE(ok.detail.find("1 tenant token"), std::string::npos);
  const std::string bad = WriteFile("bad-tokens", "alpha short\n", 0600);
  c = Load({{"INGESTD_API_TOKENS_FILE", bad}});
  EXPECT_EQ(CheckApiTokens(c, Options()).status, CheckStatus::kFail);
}

TEST_F(DoctorTest, ListenFreeTakenAndMalformed) {
  EXPECT_EQ(CheckListen("127.0.0.1:0").status, CheckStatus::kOk);
  EXPECT_EQ(CheckListen("nonsense").status, CheckStatus::kFail);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string taken = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  const CheckResult r = CheckListen(taken);
  EXPECT_EQ(r.status, CheckStatus::kFail) << r.detail;
  close(fd);
  EXPECT_EQ(CheckListen(taken).status, CheckStatus::kOk);
}

TEST_F(DoctorTest, OnlineChecksAgainstTheEmulators) {
  auto counter = text::Tokenizer::Get(text::Encoding::kCl100kBase);
  ASSERT_TRUE(counter.ok());
  emulate::OpenAiEmulatorOptions oo;
  oo.api_keys = {"sk-good"};
  emulate::OpenAiEmulator openai(oo, *counter);
  ASSERT_TRUE(openai.Start("127.0.0.1", 0).ok());
  emulate::LlamaParseEmulatorOptions lo;
  lo.api_keys = {"llx-good"};
  emulate::LlamaParseEmulator llama(lo);
  ASSERT_TRUE(llama.Start("127.0.0.1", 0).ok());
  const std::string openai_url = "http://127.0.0.1:" + std::to_string(openai.port()) + "/v1";
  const std::string llama_url = "http://127.0.0.1:" + std::to_string(llama.port());
  http::HttpClient client;

  Env env = {{"INGESTD_EMBEDDER", "openai"},      {"OPENAI_BASE_URL", openai_url},
             {"OPENAI_API_KEY", "sk-good"},       {"INGESTD_PARSER", "llamaparse"},
             {"LLAMA_CLOUD_BASE_URL", llama_url}, {"LLAMA_CLOUD_API_KEY", "llx-good"}};
  auto checks = CheckProvidersOnline(Load(env), client);
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(Find(checks, "online:openai").status, CheckStatus::kOk) << checks[0].detail;
  EXPECT_EQ(Find(checks, "online:llamaparse").status, CheckStatus::kOk) << checks[1].detail;
  EXPECT_EQ(openai.Stats().ToJson().dump().find("sk-good"), std::string::npos);

  env["OPENAI_API_KEY"] = "sk-wrong";
  env["LLAMA_CLOUD_API_KEY"] = "llx-wrong";
  checks = CheckProvidersOnline(Load(env), client);
  EXPECT_EQ(Find(checks, "online:openai").status, CheckStatus::kFail);
  EXPECT_NE(Find(checks, "online:openai").detail.find("401"), std::string::npos);
  EXPECT_EQ(Find(checks, "online:llamaparse").status, CheckStatus::kFail);
  EXPECT_EQ(Find(checks, "online:openai").detail.find("sk-wrong"), std::string::npos);

  // A model the endpoint does not serve.
  env["OPENAI_API_KEY"] = "sk-good";
  env["INGESTD_EMBED_MODEL"] = "text-embedding-4-imaginary";
  env["INGESTD_PARSER"] = "local";
  checks = CheckProvidersOnline(Load(env), client);
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].status, CheckStatus::kWarn) << checks[0].detail;

  // Nothing listens.
  const int port = openai.port();
  openai.Stop();
  env["INGESTD_EMBED_MODEL"] = "text-embedding-3-small";
  env["OPENAI_BASE_URL"] = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  checks = CheckProvidersOnline(Load(env), client);
  EXPECT_EQ(Find(checks, "online:openai").status, CheckStatus::kFail);
  llama.Stop();
}

TEST_F(DoctorTest, OfflineRunOnAFreshDevelopmentSetupPasses) {
  const config::Config c = Load({});
  DoctorOptions o = Options();
  o.listen = "127.0.0.1:0";
  o.warn_free_bytes = 0;
  o.fail_free_bytes = 0;
  const auto checks = RunOfflineChecks(c, o);
  EXPECT_FALSE(AnyFailed(checks));
  for (const char* name : {"profile", "store", "schema", "data_dir", "free_space",
                           "secret:openai.api_key", "secret:api_tokens", "listen"}) {
    Find(checks, name);
  }
}

// Local OCR (issue 19): a missing language pack is a configuration error doctor finds, naming
// the Debian package; OCR off is fine.
TEST_F(DoctorTest, OcrLanguagePacksAreChecked) {
  if (!parse::OcrBuiltIn()) {
    EXPECT_EQ(CheckOcr(Load({})).status, CheckStatus::kWarn);
    return;
  }
  const CheckResult missing = CheckOcr(Load({{"INGESTD_OCR_LANGUAGES", "eng+chi_zzz"}}));
  EXPECT_EQ(missing.status, CheckStatus::kFail) << missing.detail;
  EXPECT_NE(missing.hint.find("tesseract-ocr-chi-zzz"), std::string::npos) << missing.hint;
  const CheckResult off = CheckOcr(Load({{"INGESTD_OCR", "false"}}));
  EXPECT_EQ(off.status, CheckStatus::kOk);
  const CheckResult eng = CheckOcr(Load({}));
  if (eng.status == CheckStatus::kOk) {
    EXPECT_NE(eng.detail.find("tesseract 5"), std::string::npos) << eng.detail;
  } else {
    EXPECT_EQ(std::getenv("CI"), nullptr) << "tesseract-ocr-eng missing in CI: " << eng.detail;
  }
}

}  // namespace
}  // namespace ingest::app
