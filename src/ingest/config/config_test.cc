#include "ingest/config/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace ingest::config {
namespace {

std::string WriteTemp(const std::string& name, const std::string& body) {
  auto dir =
      std::filesystem::temp_directory_path() / ("ingest_config_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = (dir / name).string();
  std::ofstream(path) << body;
  return path;
}

LoadOptions Opts(std::string file = "", std::map<std::string, std::string> env = {{"X", "1"}}) {
  LoadOptions o;
  o.file = std::move(file);
  o.env = std::move(env);
  o.use_process_env = false;
  o.search_paths = std::vector<std::string>{};  // hermetic: no ./ingestd.toml, no /etc
  return o;
}

TEST(ConfigTest, DefaultsAreValid) {
  auto c = LoadConfig(Opts());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->profile, "development");
  EXPECT_EQ(c->parse.parser, "local");
  EXPECT_EQ(c->embed.provider, "local");
  EXPECT_EQ(c->chunk.max_tokens, 512);
  EXPECT_EQ(c->store.url, "sqlite:.ingestd/ingestd.db");
  EXPECT_EQ(SqlitePath(*c), ".ingestd/ingestd.db");
}

TEST(ConfigTest, FileThenProfileThenEnv) {
  auto path = WriteTemp("layers.toml", R"(
[chunk]
max_tokens = 300
[embed]
model = "text-embedding-3-large"
[profile.staging.chunk]
max_tokens = 200
)");
  auto o = Opts(path, {{"INGESTD_PROFILE", "staging"}, {"INGESTD_EMBED_MODEL", "m-env"}});
  auto c = LoadConfig(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->profile, "staging");
  EXPECT_EQ(c->chunk.max_tokens, 200);
  EXPECT_EQ(c->embed.model, "m-env");
  EXPECT_EQ(c->origins.at("embed.model"), "env INGESTD_EMBED_MODEL");
  EXPECT_EQ(c->origins.at("chunk.max_tokens"), path + ":7");
}

TEST(ConfigTest, SyntaxErrorNamesFileAndLine) {
  auto path = WriteTemp("bad.toml", "[chunk]\nmax_tokens = = 3\n");
  auto c = LoadConfig(Opts(path));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find(path + ":2:"), std::string::npos) << c.status().message();
}

TEST(ConfigTest, BadValueNamesFileAndLine) {
  auto path = WriteTemp("badval.toml", "\n[parse]\nparser = \"magic\"\n");
  auto c = LoadConfig(Opts(path));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find(path + ":3"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("local|llamaparse|auto"), std::string::npos);
}

TEST(ConfigTest, UnknownKeyIsAnError) {
  auto path = WriteTemp("typo.toml", "[chunk]\nmax_tokenz = 3\n");
  auto c = LoadConfig(Opts(path));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("unknown key chunk.max_tokenz"), std::string::npos);
}

TEST(ConfigTest, EnvIntegerMustParse) {
  auto c = LoadConfig(Opts("", {{"INGESTD_CHUNK_MAX_TOKENS", "lots"}}));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("INGESTD_CHUNK_MAX_TOKENS"), std::string::npos);
}

TEST(ConfigTest, SecretsAreRedactedAndCanComeFromFiles) {
  auto secret = WriteTemp("key.txt", "sk-fromfile123456\n");
  auto c =
      LoadConfig(Opts("", {{"OPENAI_API_KEY_FILE", secret}, {"INGESTD_ADMIN_TOKEN", "tok-1"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->openai.api_key, "sk-fromfile123456");
  std::string printed = Redacted(*c);
  EXPECT_EQ(printed.find("sk-fromfile"), std::string::npos);
  EXPECT_EQ(printed.find("tok-1"), std::string::npos);
  EXPECT_NE(printed.find("api_key = \"<redacted>\""), std::string::npos);
}

TEST(ConfigTest, AlertWebhookFromEnvIsASecretAndItsFormatIsChecked) {
  auto c = LoadConfig(Opts("", {{"INGESTD_ALERT_WEBHOOK_URL", "https://hooks.example/T0/B0/x1"},
                                {"INGESTD_ALERT_WEBHOOK_FORMAT", "slack"},
                                {"INGESTD_ALERT_INTERVAL_S", "5"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->alert.webhook_url, "https://hooks.example/T0/B0/x1");
  EXPECT_EQ(c->alert.webhook_format, "slack");
  EXPECT_EQ(c->alert.interval_s, 5);
  EXPECT_EQ(c->alert.repeat_interval_s, 4 * 3600);
  EXPECT_EQ(Redacted(*c).find("hooks.example"), std::string::npos);
  EXPECT_FALSE(LoadConfig(Opts("", {{"INGESTD_ALERT_WEBHOOK_FORMAT", "teams"}})).ok());
  EXPECT_FALSE(LoadConfig(Opts("", {{"INGESTD_ALERT_INTERVAL_S", "0"}})).ok());
}

TEST(ConfigTest, RequestRateLimitsAreCheckedAtLoad) {
  auto path = WriteTemp("rates.toml", "[api]\nrate_limit_per_key = \"20/s\"\n");
  auto c = LoadConfig(Opts(path, {{"INGESTD_API_RATE_LIMIT_PER_TENANT", "600/m"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->api.rate_limit_per_key, "20/s");
  EXPECT_EQ(c->api.rate_limit_per_tenant, "600/m");
  EXPECT_TRUE(LoadConfig(Opts()).value().api.rate_limit_per_key.empty());  // no limit by default
  auto bad = LoadConfig(Opts(WriteTemp("badrate.toml", "[api]\nrate_limit_per_key = \"20/h\"\n")));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("api.rate_limit_per_key"), std::string::npos)
      << bad.status().message();
  EXPECT_NE(bad.status().message().find("N/s or N/m"), std::string::npos);
  EXPECT_FALSE(LoadConfig(Opts("", {{"INGESTD_API_RATE_LIMIT_PER_TENANT", "0/s"}})).ok());
}

TEST(ConfigTest, ApiKeyAloneNeverEnablesAPaidProvider) {
  auto c = LoadConfig(Opts("", {{"OPENAI_API_KEY", "sk-xxxxxxxxxxxx"}}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->embed.provider, "local");
}

TEST(ConfigTest, ProductionRefusesMock) {
  auto c = LoadConfig(Opts("", {{"INGESTD_PROFILE", "production"}, {"INGESTD_MODE", "mock"}}));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("production"), std::string::npos);
}

TEST(ConfigTest, ModePresetFillsOnlyUnsetChoices) {
  auto c = LoadConfig(Opts("", {{"INGESTD_MODE", "hybrid"}, {"INGESTD_EMBEDDER", "local"}}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->embed.provider, "local");
  EXPECT_EQ(c->parse.parser, "auto");
}

TEST(ConfigTest, KeysAloneNeverEnablePaidProvidersOrFallbacks) {
  auto c =
      LoadConfig(Opts("", {{"OPENAI_API_KEY", "k-openai"}, {"LLAMA_CLOUD_API_KEY", "k-llama"}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->embed.provider, "local");
  EXPECT_EQ(c->parse.parser, "local");
  EXPECT_EQ(c->parse.fallback, "none");
}

TEST(ConfigTest, ModesPresetProvidersAndHybridFallback) {
  for (const char* mode : {"real", "mock", "hybrid"}) {
    auto c = LoadConfig(Opts("", {{"INGESTD_MODE", mode}}));
    ASSERT_TRUE(c.ok()) << mode << ": " << c.status().ToString();
    EXPECT_EQ(c->embed.provider, "openai") << mode;
    EXPECT_EQ(c->parse.parser, "auto") << mode;
    EXPECT_EQ(c->origins.at("parse.parser"), std::string("mode ") + mode);
    EXPECT_EQ(c->parse.fallback, std::string(mode) == "hybrid" ? "local" : "none") << mode;
  }
  // An explicit choice wins over the preset.
  auto c = LoadConfig(Opts("", {{"INGESTD_MODE", "hybrid"}, {"INGESTD_PARSE_FALLBACK", "none"}}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->parse.fallback, "none");
}

TEST(ConfigTest, MockRefusesThePaidServicesUrls) {
  auto c = LoadConfig(
      Opts("", {{"INGESTD_MODE", "mock"}, {"OPENAI_BASE_URL", "https://api.openai.com/v1"}}));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("env OPENAI_BASE_URL"), std::string::npos)
      << c.status().message();
  c = LoadConfig(Opts("", {{"INGESTD_MODE", "mock"},
                           {"LLAMA_CLOUD_BASE_URL", "https://api.cloud.EU.llamaindex.ai"}}));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("LLAMA_CLOUD_BASE_URL"), std::string::npos);
  c = LoadConfig(Opts("", {{"INGESTD_MODE", "mock"},
                           {"OPENAI_BASE_URL", "http://127.0.0.1:8081/v1"},
                           {"LLAMA_CLOUD_BASE_URL", "http://emulator.staging:8082"}}));
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  // The production profile refuses mock from a file too, naming the line.
  auto path =
      WriteTemp("prodmock.toml", "mode = \"real\"\n[profile.production]\nmode = \"mock\"\n");
  c = LoadConfig(Opts(path, {{"INGESTD_PROFILE", "production"}}));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("prodmock.toml:3"), std::string::npos)
      << c.status().message();
}

TEST(ConfigTest, ParseFallbackAttemptsBoundedByMaxAttempts) {
  auto c = LoadConfig(Opts("", {{"INGESTD_MODE", "hybrid"}, {"INGESTD_MAX_ATTEMPTS", "2"}}));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("parse.fallback_after_attempts (3)"), std::string::npos)
      << c.status().message();
  c = LoadConfig(Opts("", {{"INGESTD_PARSE_FALLBACK", "remote"}}));
  EXPECT_FALSE(c.ok());
}

TEST(ConfigTest, EmbedFallbackMustServeTheSameModelAndDimensions) {
  std::map<std::string, std::string> env = {
      {"INGESTD_EMBEDDER", "openai"},
      {"INGESTD_EMBED_MODEL", "text-embedding-3-small"},
      {"INGESTD_EMBED_FALLBACK_BASE_URL", "http://127.0.0.1:9/v1"}};
  auto c = LoadConfig(Opts("", env));  // no fallback model: refused
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("must equal embed.model"), std::string::npos)
      << c.status().message();
  env["INGESTD_EMBED_FALLBACK_MODEL"] = "text-embedding-3-large";
  c = LoadConfig(Opts("", env));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("env INGESTD_EMBED_FALLBACK_MODEL"), std::string::npos)
      << c.status().message();
  env["INGESTD_EMBED_FALLBACK_MODEL"] = "text-embedding-3-small";
  env["INGESTD_EMBED_FALLBACK_DIMENSIONS"] = "512";
  c = LoadConfig(Opts("", env));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("embed.fallback_dimensions (512)"), std::string::npos);
  env["INGESTD_EMBED_DIMENSIONS"] = "512";
  c = LoadConfig(Opts("", env));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  env["INGESTD_EMBED_FALLBACK_API_KEY"] = "fallback-secret-value";
  c = LoadConfig(Opts("", env));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(Redacted(*c).find("fallback-secret-value"), std::string::npos);
}

TEST(ConfigTest, LlamaParseWebhookNeedsHttpsDomainShortUrlAndASecret) {
  const std::string secret = "0123456789abcdef";
  auto with = [&](const std::string& url, const std::string& s) {
    return LoadConfig(Opts(
        "", {{"INGESTD_LLAMAPARSE_WEBHOOK_URL", url}, {"INGESTD_LLAMAPARSE_WEBHOOK_SECRET", s}}));
  };
  EXPECT_TRUE(with("https://ingest.example.com", secret).ok());
  EXPECT_TRUE(with("http://127.0.0.1:8080", secret).ok());  // the emulator on loopback
  EXPECT_TRUE(with("http://[::1]:8080", secret).ok());
  auto c = with("http://ingest.example.com", secret);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("https"), std::string::npos);
  c = with("https://203.0.113.7", secret);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("domain name"), std::string::npos);
  EXPECT_FALSE(with("https://ingest.example.com/" + std::string(90, 'p'), secret).ok());
  EXPECT_FALSE(with("https://ingest.example.com?x=1", secret).ok());
  c = with("https://ingest.example.com", "short");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("webhook_secret"), std::string::npos);
  EXPECT_EQ(c.status().message().find("short"), std::string::npos);  // the secret is not echoed
  auto ok = with("https://ingest.example.com", secret);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(Redacted(*ok).find(secret), std::string::npos);
}

TEST(ConfigTest, PrintedConfigurationIsAValidFileWithTheSameValues) {
  auto c = LoadConfig(Opts("", {{"INGESTD_CHUNK_MAX_TOKENS", "300"},
                                {"INGESTD_PRICING_LLAMAPARSE_CREDITS_PER_PAGE", "fast=1"},
                                {"INGESTD_PRICING_EMBEDDING_PER_1M_USD", "my-model=0"},
                                {"OPENAI_API_KEY", "sk-fake-never"},
                                {"OPENAI_BASE_URL", "http://127.0.0.1:9/v1"},
                                {"INGESTD_DATA_DIR", "/tmp/data \"quoted\""}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const std::string printed = Redacted(*c);
  EXPECT_EQ(printed.find("sk-fake"), std::string::npos);
  auto path = WriteTemp("printed.toml", printed);
  auto again = LoadConfig(Opts(path));
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << printed;
  EXPECT_EQ(again->chunk.max_tokens, 300);
  EXPECT_EQ(again->pricing.llamaparse_credits_per_page, "fast=1");
  EXPECT_EQ(again->pricing.embedding_per_1m_usd, "my-model=0");
  EXPECT_EQ(again->openai.base_url, "http://127.0.0.1:9/v1");
  EXPECT_EQ(again->store.data_dir, "/tmp/data \"quoted\"");
  EXPECT_EQ(again->openai.api_key, "");  // secrets are never printed, so never read back
  EXPECT_EQ(again->origins.at("chunk.max_tokens").rfind(path + ":", 0), 0u);
  // Printing the reloaded configuration gives the same values (only origins differ).
  auto strip = [](const std::string& text) {
    std::string out;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      std::string line = text.substr(pos, nl - pos);
      pos = nl == std::string::npos ? text.size() : nl + 1;
      if (line.rfind("# ", 0) == 0 && line.find(" = ") == std::string::npos) continue;
      line = line.substr(0, line.rfind("  # "));
      // The secret set in the first load is not in the printed file: it reads back unset.
      if (line.rfind("# api_key", 0) == 0 || line.rfind("api_key", 0) == 0) continue;
      out += line + "\n";
    }
    return out;
  };
  EXPECT_EQ(strip(Redacted(*again)), strip(printed));
  EXPECT_NE(printed.find("# configuration file: none"), std::string::npos);
  EXPECT_NE(Redacted(*again).find("# configuration file: " + path + " (--config)"),
            std::string::npos);
}

TEST(ConfigTest, DiscoveryOrderConfigFlagThenEnvThenSearchPath) {
  auto first = WriteTemp("first.toml", "[chunk]\nmax_tokens = 101\n");
  auto second = WriteTemp("second.toml", "[chunk]\nmax_tokens = 102\n");
  auto named = WriteTemp("named.toml", "[chunk]\nmax_tokens = 103\n");
  auto flag = WriteTemp("flag.toml", "[chunk]\nmax_tokens = 104\n");
  const std::string missing = first + ".missing";

  LoadOptions o = Opts();
  o.search_paths = std::vector<std::string>{missing, first, second};
  auto found = LoadConfig(o);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->chunk.max_tokens, 101);  // the first that exists
  EXPECT_EQ(found->file, first);
  EXPECT_EQ(found->file_origin, "found in the search path");

  o.env = {{"INGESTD_CONFIG", named}};
  auto by_env = LoadConfig(o);
  ASSERT_TRUE(by_env.ok());
  EXPECT_EQ(by_env->chunk.max_tokens, 103);
  EXPECT_EQ(by_env->file_origin, "env INGESTD_CONFIG");

  o.file = flag;
  auto by_flag = LoadConfig(o);
  ASSERT_TRUE(by_flag.ok());
  EXPECT_EQ(by_flag->chunk.max_tokens, 104);
  EXPECT_EQ(by_flag->file_origin, "--config");

  // A named file that does not exist is an error, never a silent fallback to the search path.
  o.file = missing;
  EXPECT_FALSE(LoadConfig(o).ok());

  LoadOptions none = Opts();
  none.search_paths = std::vector<std::string>{missing};
  auto defaults = LoadConfig(none);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->file, "");
  EXPECT_EQ(defaults->chunk.max_tokens, 512);
}

TEST(ConfigTest, DefaultSearchPathFollowsXdg) {
  EXPECT_EQ(DefaultSearchPaths({{"XDG_CONFIG_HOME", "/x"}, {"HOME", "/h"}}),
            (std::vector<std::string>{"./ingestd.toml", "/x/ingestd/ingestd.toml",
                                      "/etc/ingestd/ingestd.toml"}));
  EXPECT_EQ(DefaultSearchPaths({{"HOME", "/h"}}),
            (std::vector<std::string>{"./ingestd.toml", "/h/.config/ingestd/ingestd.toml",
                                      "/etc/ingestd/ingestd.toml"}));
}

}  // namespace
}  // namespace ingest::config

namespace ingest::config {
namespace {

TEST(BlobsConfigTest, BlobsFollowTheStore) {
  auto sqlite = LoadConfig(Opts("", {{"INGESTD_DATA_DIR", "/srv/ingestd"}}));
  ASSERT_TRUE(sqlite.ok()) << sqlite.status().ToString();
  EXPECT_EQ(sqlite->blobs.url, "file:///srv/ingestd/blobs");
  EXPECT_EQ(BlobsFolder(*sqlite), "/srv/ingestd/blobs");
  EXPECT_EQ(BlobCacheDir(*sqlite), "/srv/ingestd/tmp/blob-cache");
  EXPECT_EQ(sqlite->origins.at("blobs.url"), "default (from store.data_dir)");

  auto pg = LoadConfig(Opts("", {{"INGESTD_STORE", "postgresql://u@db:5432/ingest"}}));
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  EXPECT_EQ(pg->blobs.url, "postgresql://u@db:5432/ingest");
  EXPECT_EQ(BlobsFolder(*pg), "");
  EXPECT_EQ(pg->origins.at("blobs.url"), "default (from store.url)");

  // The folder stays selectable on PostgreSQL.
  auto folder = LoadConfig(Opts("", {{"INGESTD_STORE", "postgresql://u@db:5432/ingest"},
                                     {"INGESTD_BLOBS_URL", "file:///mnt/blobs"}}));
  ASSERT_TRUE(folder.ok()) << folder.status().ToString();
  EXPECT_EQ(BlobsFolder(*folder), "/mnt/blobs");
}

// A PostgreSQL deployment from before database blobs has <data_dir>/blobs: it keeps that folder
// by default, so old and new processes share it during a rolling upgrade.
TEST(BlobsConfigTest, AnExistingBlobsFolderStaysTheDefaultOnPostgres) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("ingest_config_blobs_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "blobs");
  auto pg = LoadConfig(Opts("", {{"INGESTD_STORE", "postgresql://u@db:5432/ingest"},
                                 {"INGESTD_DATA_DIR", dir.string()}}));
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  EXPECT_EQ(pg->blobs.url, "file://" + (dir / "blobs").string());
  EXPECT_NE(pg->origins.at("blobs.url").find("before database blobs"), std::string::npos);
  // Explicitly set, the database wins.
  auto db = LoadConfig(Opts("", {{"INGESTD_STORE", "postgresql://u@db:5432/ingest"},
                                 {"INGESTD_DATA_DIR", dir.string()},
                                 {"INGESTD_BLOBS_URL", "postgresql://u@db:5432/ingest"}}));
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ(db->blobs.url, "postgresql://u@db:5432/ingest");
  std::filesystem::remove_all(dir);
}

TEST(BlobsConfigTest, S3NeedsCredentialsAndNeverPrintsThem) {
  auto missing = LoadConfig(Opts("", {{"INGESTD_BLOBS_URL", "s3://bucket/prefix"}}));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);

  const std::string secret_file = WriteTemp("aws_secret", "fake-secret-for-tests\n");
  auto c = LoadConfig(Opts("", {{"INGESTD_BLOBS_URL", "s3://bucket/prefix"},
                                {"INGESTD_BLOBS_S3_ENDPOINT", "http://127.0.0.1:9000"},
                                {"AWS_ACCESS_KEY_ID", "fake-key-id"},
                                {"AWS_SECRET_ACCESS_KEY_FILE", secret_file}}));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->blobs.s3_secret_access_key, "fake-secret-for-tests");
  EXPECT_EQ(c->origins.at("blobs.s3_secret_access_key"), "file AWS_SECRET_ACCESS_KEY_FILE");
  const std::string printed = Redacted(*c);
  EXPECT_EQ(printed.find("fake-secret-for-tests"), std::string::npos);
  EXPECT_EQ(printed.find("fake-key-id"), std::string::npos);
  EXPECT_NE(printed.find("url = \"s3://bucket/prefix\""), std::string::npos);
}

TEST(BlobsConfigTest, RejectsUnknownSchemesAndBadCacheBounds) {
  EXPECT_FALSE(LoadConfig(Opts("", {{"INGESTD_BLOBS_URL", "ftp://x"}})).ok());
  EXPECT_FALSE(LoadConfig(Opts("", {{"INGESTD_BLOBS_URL", "s3:///no-bucket"}})).ok());
  EXPECT_FALSE(LoadConfig(Opts("", {{"INGESTD_BLOBS_CACHE_MAX_MB", "0"}})).ok());
}

}  // namespace
}  // namespace ingest::config
