#include "ingest/app/app.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "ingest/app/mock_services.h"
#include "ingest/common/hash.h"
#include "ingest/embed/fallback_embedder.h"
#include "ingest/embed/local/lexical_embedder.h"
#include "ingest/embed/openai/openai_embedder.h"
#include "ingest/obs/log.h"
#include "ingest/parse/contained/contained_parser.h"
#include "ingest/parse/fallback_parser.h"
#include "ingest/parse/llamaparse/llamaparse_parser.h"
#include "ingest/parse/local/local_parser.h"
#include "ingest/parse/routing_parser.h"
#include "ingest/pipeline/pipeline_deps.h"
#include "ingest/store/blobs/layered_blob_store.h"
#include "ingest/store/blobs/postgres_blob_store.h"
#include "ingest/store/blobs/s3_blob_store.h"
#include "ingest/store/fs_blob_store.h"
#include "ingest/store/postgres/postgres_store.h"
#include "ingest/store/sqlite/sqlite_store.h"
#include "ingest/text/tokenizer.h"

namespace ingest::app {
namespace {

// The local parser as configured: in a supervised subprocess per document (parse.isolation =
// "subprocess", the default: a hostile file ends only its own parse) or in-process ("none").
std::unique_ptr<parse::Parser> MakeLocalParser(const config::Config& config,
                                               const parse::LocalParserOptions& local) {
  const config::ParseConfig& pc = config.parse;
  if (pc.isolation == "none") return std::make_unique<parse::LocalParser>(local);
  parse::ContainedParserOptions contained;
  contained.local = local;
  contained.sandbox.timeout = std::chrono::seconds(pc.timeout_s);
  contained.sandbox.cpu_seconds = pc.cpu_limit_s > 0 ? pc.cpu_limit_s : pc.timeout_s;
  contained.sandbox.memory_bytes = pc.memory_limit_mb << 20;
  contained.sandbox.max_output_bytes = pc.max_output_bytes;
  contained.sandbox.ocr_budget = std::chrono::seconds(pc.ocr_budget_s);
  return std::make_unique<parse::ContainedParser>(std::move(contained));
}

}  // namespace

parse::OcrOptions OcrOptionsFor(const config::Config& config) {
  const config::ParseConfig& pc = config.parse;
  parse::OcrOptions ocr;
  // A build without Tesseract parses as before (doctor says OCR is missing).
  ocr.enabled = pc.ocr && parse::OcrBuiltIn();
  ocr.languages = pc.ocr_languages;
  ocr.dpi = pc.ocr_dpi;
  ocr.min_confidence = pc.ocr_min_confidence;
  ocr.threads = pc.ocr_threads;
  ocr.page_timeout = std::chrono::seconds(pc.ocr_page_timeout_s);
  ocr.max_page_pixels = pc.ocr_max_page_pixels;
  ocr.min_chars_per_page = pc.ocr_min_chars_per_page;
  ocr.tessdata_dir = pc.ocr_tessdata_dir;
  return ocr;
}

Result<config::Config> LoadConfigFor(const GlobalOptions& global) {
  config::LoadOptions options;
  options.file = global.config_file;
  options.profile = global.profile;
  INGEST_ASSIGN_OR_RETURN(config::Config config, config::LoadConfig(options));
  obs::InitLogging(config.log.level, config.log.format);
  return config;
}

Result<std::unique_ptr<store::Store>> OpenStore(const config::Config& config, Clock* clock,
                                                bool auto_migrate) {
  const std::string& url = config.store.url;
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    store::PostgresStoreOptions pg;
    pg.url = url;
    // A pipeline worker holds at most one connection at a time; the spare ones serve
    // heartbeats, the API and store calls made from ScanIndex callbacks.
    pg.pool_size = config.pipeline.workers + 4 > 8 ? config.pipeline.workers + 4 : 8;
    INGEST_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store,
                            store::OpenPostgresStore(pg, clock));
    // A shared database is never migrated implicitly (other processes, possibly other
    // versions, use it): `ingestd migrate up` is an explicit step. `auto_migrate` therefore
    // only asks that the schema be current.
    if (auto_migrate) {
      Status current = store->CheckSchemaCurrent();
      if (!current.ok()) {
        return FailedPrecondition(
            "PostgreSQL store: " + current.message() + " (never done automatically)",
            current.reason());
      }
      // Applied by `migrate up` only: re-indexing a shared database is an explicit step.
      auto language = store->TextSearchLanguage();
      if (language.ok() && *language != config.search.fts_language) {
        obs::LogWarn(
            "search.fts_language differs from the store's full-text language; run "
            "`ingestd migrate up` to re-index",
            {{"configured", config.search.fts_language}, {"store", *language}});
      }
    }
    return store;
  }
  std::string sqlite_path = config::SqlitePath(config);
  if (sqlite_path.empty()) {
    return InvalidArgument("store.url must be sqlite:PATH or postgresql://..., got \"" + url + "\"",
                           "store_unsupported");
  }
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(sqlite_path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) {
    return Unavailable("cannot create " + parent.string() + ": " + ec.message(),
                       "data_dir_unwritable");
  }
  INGEST_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store,
                          store::OpenSqliteStore(sqlite_path, clock));
  if (auto_migrate) {
    auto known = store->KnownMigrations();
    INGEST_ASSIGN_OR_RETURN(int current, store->SchemaVersion());
    int latest = known.empty() ? 0 : known.back().version;
    if (current < latest) {
      INGEST_RETURN_IF_ERROR(store->MigrateTo(latest));
      obs::LogDebug("migrated embedded store", {{"from", current}, {"to", latest}});
    } else if (current > latest && !store->CheckSchemaCurrent().ok()) {
      return FailedPrecondition("database schema version " + std::to_string(current) +
                                    " is newer than this ingestd (" + std::to_string(latest) +
                                    "); upgrade ingestd or run an older build's migrate down",
                                "schema_too_new");
    }
    INGEST_RETURN_IF_ERROR(store->SetTextSearchLanguage(config.search.fts_language));
  }
  return store;
}

bool FullTextIndexed(const store::Store& store, int version) {
  for (const store::Migration& m : store.KnownMigrations()) {
    if (m.name == "fts") return m.version <= version;
  }
  return false;
}

Status RequireExistingStore(const config::Config& config) {
  const std::string path = config::SqlitePath(config);
  if (path.empty()) return Status::Ok();
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return Status::Ok();
  auto origin = [&](const char* key) {
    auto it = config.origins.find(key);
    return it == config.origins.end() ? std::string("default") : it->second;
  };
  std::string from = origin("store.url");
  if (from.rfind("default", 0) == 0) from = "store.data_dir from " + origin("store.data_dir");
  return FailedPrecondition(
      "no store at " + path + " (" + from +
          "): nothing has been ingested there. Run `ingestd ingest PATH...` first, or point at "
          "an existing store with INGESTD_DATA_DIR, INGESTD_STORE or --config "
          "(docs/configuration.md)",
      "no_store");
}

Result<std::unique_ptr<store::Store>> OpenExistingStore(const config::Config& config,
                                                        Clock* clock) {
  INGEST_RETURN_IF_ERROR(RequireExistingStore(config));
  return OpenStore(config, clock, /*auto_migrate=*/true);
}

App::~App() = default;

Result<std::unique_ptr<store::BlobStore>> OpenBlobStore(const config::Config& config) {
  // A Config built in code (not by LoadConfig) may leave blobs.url empty: the default then is
  // the one LoadConfig would pick.
  std::string url = config.blobs.url;
  if (url.empty()) {
    std::string origin;
    url = config::DefaultBlobsUrl(config, &origin);
  }
  store::blobs::BlobCacheOptions cache;
  cache.dir = config::BlobCacheDir(config);
  cache.max_bytes = config.blobs.cache_max_mb << 20;
  cache.grace = std::chrono::seconds(config.blobs.cache_grace_s);
  enum class Kind { kFolder, kPostgres, kS3, kUnknown };
  Kind kind = Kind::kUnknown;
  if (url.rfind("file://", 0) == 0) kind = Kind::kFolder;
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    kind = Kind::kPostgres;
  }
  if (url.rfind("s3://", 0) == 0) kind = Kind::kS3;
  switch (kind) {
    case Kind::kFolder:
      return std::unique_ptr<store::BlobStore>(new store::FsBlobStore(url.substr(7)));
    case Kind::kPostgres: {
      store::PostgresBlobStoreOptions pg;
      pg.url = url;
      pg.cache = cache;
      INGEST_ASSIGN_OR_RETURN(std::unique_ptr<store::BlobStore> db,
                              store::OpenPostgresBlobStore(pg));
      // A PostgreSQL deployment from before blobs lived in the database has them in the data
      // directory's folder: keep reading those (docs/operations/blobs.md).
      const std::string older = config.store.data_dir + "/blobs";
      std::error_code ec;
      if (std::filesystem::is_directory(older, ec)) {
        return std::unique_ptr<store::BlobStore>(new store::LayeredBlobStore(
            std::move(db), std::make_unique<store::FsBlobStore>(older)));
      }
      return db;
    }
    case Kind::kS3: {
      store::S3BlobStoreOptions s3;
      INGEST_RETURN_IF_ERROR(store::ParseS3Url(url, &s3));
      s3.endpoint = config.blobs.s3_endpoint;
      s3.region = config.blobs.s3_region;
      s3.access_key_id = config.blobs.s3_access_key_id;
      s3.secret_access_key = config.blobs.s3_secret_access_key;
      s3.session_token = config.blobs.s3_session_token;
      s3.cache = cache;
      return store::OpenS3BlobStore(s3);
    }
    case Kind::kUnknown:
      break;
  }
  return InvalidArgument("blobs.url must be file://, postgresql:// or s3://", "bad_blobs_url");
}

Result<std::unique_ptr<App>> App::Open(const config::Config& config) {
  std::unique_ptr<App> app(new App());
  app->config_ = config;
  INGEST_RETURN_IF_ERROR(governor::ApplyPriceOverrides(
      app->prices_, config.pricing.embedding_per_1m_usd,
      config.pricing.llamaparse_usd_per_1000_credits, config.pricing.llamaparse_credits_per_page));
  INGEST_ASSIGN_OR_RETURN(app->store_, OpenStore(config, app->clock_, /*auto_migrate=*/true));
  // Mode mock: emulators instead of the paid services, and nothing it records costs money.
  const bool mock = config.mode == "mock";
  config::ProviderConfig openai_endpoint = config.openai;
  config::ProviderConfig llamaparse_endpoint = config.llamaparse;
  if (mock) {
    INGEST_ASSIGN_OR_RETURN(app->mock_, MockServices::Start(config));
    openai_endpoint = app->mock_->openai();
    llamaparse_endpoint = app->mock_->llamaparse();
    app->prices_.embedding_per_token["mock:" + config.embed.model] = 0;
    app->prices_.llamaparse_per_credit = 0;
  }
  INGEST_ASSIGN_OR_RETURN(app->blobs_, OpenBlobStore(config));

  INGEST_ASSIGN_OR_RETURN(text::Encoding encoding, text::ParseEncoding(config.chunk.encoding));
  INGEST_ASSIGN_OR_RETURN(app->tokenizer_, text::Tokenizer::Get(encoding));

  const config::GovernorConfig& gc = config.governor;
  governor::GovernorOptions gov_options;
  gov_options.reservation_ttl = std::chrono::seconds(gc.reservation_ttl_s);
  app->governor_ = std::make_unique<governor::Governor>(app->store_.get(), app->clock_,
                                                        &app->prices_, gov_options);
  // One gate per provider; processes using the same key and endpoint share its buckets.
  auto provider_options = [&gc](std::string name, const std::string& base_url,
                                const std::string& key, int64_t rpm, int64_t tpm) {
    governor::ProviderOptions p;
    p.bucket_key = name + ":" + Sha256Hex(base_url + "\n" + key).substr(0, 16);
    p.name = std::move(name);
    p.rate.requests_per_minute = rpm;
    p.rate.tokens_per_minute = tpm;
    p.rate.target_ratio = gc.rate_target_percent / 100.0;
    p.rate.max_wait = Duration(gc.max_rate_wait_ms);
    p.breaker.window = std::chrono::seconds(gc.breaker_window_s);
    p.breaker.min_calls = gc.breaker_min_calls;
    p.breaker.failure_ratio = gc.breaker_failure_percent / 100.0;
    p.breaker.open_for = std::chrono::seconds(gc.breaker_open_s);
    p.stop_probe_after = std::chrono::seconds(gc.stop_probe_after_s);
    // An unreachable endpoint is probed again after the breaker's open time, so a server that
    // restarts resumes the provider by itself (a wrong URL stays stopped with its cause).
    p.unreachable_probe_after = std::chrono::seconds(gc.breaker_open_s);
    return p;
  };

  parse::ParseLimits limits;
  limits.max_bytes = config.parse.max_bytes;
  limits.max_pages = config.parse.max_pages;
  limits.max_uncompressed_bytes = config.parse.max_uncompressed_bytes;
  limits.max_compression_ratio = config.parse.max_compression_ratio;
  parse::LocalParserOptions parser_options;
  parser_options.limits = limits;
  parser_options.ocr = OcrOptionsFor(config);
  parser_options.pdf_threads =
      config.parse.pdf_threads > 0
          ? config.parse.pdf_threads
          : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 8u));
  std::unique_ptr<parse::Parser> local_parser = MakeLocalParser(config, parser_options);
  // Only parse.parser (or mode) switches LlamaParse on; a key alone never does (DESIGN §4).
  // "auto" without a key is the local parser alone: nothing can be paid for.
  const bool wants_llamaparse = config.parse.parser == "llamaparse";
  if (config.parse.parser == "local" ||
      (config.parse.parser == "auto" && llamaparse_endpoint.api_key.empty())) {
    if (config.parse.parser == "auto") {
      obs::LogInfo("parse.parser = auto without LLAMA_CLOUD_API_KEY: parsing locally only");
    }
    app->parser_ = std::move(local_parser);
  } else if (wants_llamaparse || config.parse.parser == "auto") {
    if (llamaparse_endpoint.api_key.empty()) {
      return FailedPrecondition(
          "parse.parser = \"llamaparse\" needs an API key: set LLAMA_CLOUD_API_KEY (or "
          "LLAMA_CLOUD_API_KEY_FILE, or llamaparse.api_key)",
          "missing_api_key");
    }
    parse::LlamaParseParserOptions llamaparse;
    llamaparse.client.api_key = llamaparse_endpoint.api_key;
    app->llamaparse_key_ = std::make_shared<SecretCell>(llamaparse_endpoint.api_key);
    llamaparse.client.api_key_cell = app->llamaparse_key_;
    if (!llamaparse_endpoint.base_url.empty()) {
      llamaparse.client.base_url = llamaparse_endpoint.base_url;
    }
    llamaparse.mock = mock;
    llamaparse.webhook_base_url = config.parse.llamaparse_webhook_url;
    llamaparse.webhook_secret = config.parse.llamaparse_webhook_secret;
    INGEST_ASSIGN_OR_RETURN(llamaparse.client.gate,
                            app->governor_->AddProvider(
                                provider_options("llamaparse", llamaparse.client.base_url,
                                                 llamaparse.client.api_key, gc.llamaparse_rpm, 0)));
    llamaparse.limits = limits;
    llamaparse.upload.parse_mode = config.parse.llamaparse_mode;
    llamaparse.poll_deadline = std::chrono::seconds(config.parse.llamaparse_poll_deadline_s);
    std::unique_ptr<parse::RemoteParser> remote =
        std::make_unique<parse::LlamaParseParser>(std::move(llamaparse));
    if (!wants_llamaparse) {
      parse::AutoParserOptions routing;
      routing.min_chars_per_page = config.parse.auto_min_chars_per_page;
      remote =
          std::make_unique<parse::AutoParser>(std::move(local_parser), std::move(remote), routing);
    }
    if (config.parse.fallback == "local") {  // hybrid: LlamaParse down or over budget -> local
      parse::ParseFallbackOptions fallback;
      fallback.after_attempts = config.parse.fallback_after_attempts;
      remote = std::make_unique<parse::FallbackParser>(
          std::move(remote), MakeLocalParser(config, parser_options), fallback);
    }
    app->parser_ = std::move(remote);
  } else {
    return FailedPrecondition("unknown parser \"" + config.parse.parser +
                                  "\"; use parse.parser = \"local\", \"llamaparse\" or \"auto\" "
                                  "(INGESTD_PARSER)",
                              "parser_unsupported");
  }

  // Only embed.provider switches a paid provider on; an API key alone never does (DESIGN §4).
  if (config.embed.provider == "openai") {
    if (openai_endpoint.api_key.empty()) {
      return FailedPrecondition(
          "embed.provider = \"openai\" needs an API key: set OPENAI_API_KEY (or "
          "OPENAI_API_KEY_FILE, or openai.api_key)",
          "missing_api_key");
    }
    embed::OpenAiEmbedderOptions openai;
    openai.base_url = openai_endpoint.base_url.empty() ? std::string(embed::kOpenAiDefaultBaseUrl)
                                                       : openai_endpoint.base_url;
    openai.api_key = openai_endpoint.api_key;
    app->openai_key_ = std::make_shared<SecretCell>(openai_endpoint.api_key);
    openai.api_key_cell = app->openai_key_;
    openai.model = config.embed.model;
    openai.dimensions = config.embed.dimensions;
    openai.mock = mock;
    // All OpenAI embedding models count tokens with cl100k_base, whatever the chunker uses.
    INGEST_ASSIGN_OR_RETURN(openai.token_counter,
                            text::Tokenizer::Get(text::Encoding::kCl100kBase));
    app->embed_tokens_ = openai.token_counter;
    INGEST_ASSIGN_OR_RETURN(
        openai.gate, app->governor_->AddProvider(provider_options(
                         "openai", openai.base_url, openai.api_key, gc.openai_rpm, gc.openai_tpm)));
    // A fallback endpoint serves the same model (config.cc checks it; FallbackEmbedder checks
    // the resulting spaces), so both write into one vector space.
    embed::OpenAiEmbedderOptions fallback = openai;
    INGEST_ASSIGN_OR_RETURN(app->embedder_, embed::OpenAiEmbedder::Create(std::move(openai)));
    if (!config.embed.fallback_base_url.empty()) {
      fallback.base_url = config.embed.fallback_base_url;
      fallback.model = config.embed.fallback_model;
      fallback.dimensions = config.embed.fallback_dimensions;
      if (!config.embed.fallback_api_key.empty()) fallback.api_key = config.embed.fallback_api_key;
      // Its own cell: a fallback without a key of its own keeps the primary's as it was at
      // start (rotate it by giving the fallback its own key).
      app->openai_fallback_key_ = std::make_shared<SecretCell>(fallback.api_key);
      fallback.api_key_cell = app->openai_fallback_key_;
      // Its own gate: its own breaker (the point of a fallback is to be asked while the
      // primary's is open) and its own rate buckets; the budgets are the same ("openai").
      INGEST_ASSIGN_OR_RETURN(fallback.gate,
                              app->governor_->AddProvider(provider_options(
                                  "openai-fallback", fallback.base_url, fallback.api_key, 0, 0)));
      INGEST_ASSIGN_OR_RETURN(auto second, embed::OpenAiEmbedder::Create(std::move(fallback)));
      INGEST_ASSIGN_OR_RETURN(app->embedder_, embed::FallbackEmbedder::Create(
                                                  std::move(app->embedder_), std::move(second)));
    }
  } else if (config.embed.provider == "local") {
    embed::LexicalOptions lexical;
    if (config.embed.dimensions > 0) lexical.dimensions = config.embed.dimensions;
    app->embedder_ = std::make_unique<embed::LexicalEmbedder>(lexical);
  } else {
    return FailedPrecondition("unknown embedder \"" + config.embed.provider +
                                  "\"; use embed.provider = \"local\" or \"openai\" "
                                  "(INGESTD_EMBEDDER)",
                              "embedder_unsupported");
  }
  // A paid embedder must have a price (DESIGN §3): refuse now rather than record guesses.
  if (app->embedder_->Provider() != "local") {
    INGEST_RETURN_IF_ERROR(
        governor::EmbeddingCostNanos(app->prices_, app->embedder_->Space().model, 0).status());
  }
  return app;
}

Result<App::SecretReload> App::ReloadSecrets(const config::Config& fresh) {
  SecretReload out;
  // Mode mock: the keys are the in-process emulators' own, fixed for the process.
  if (config_.mode == "mock") return out;
  struct Slot {
    const char* name;      // the setting, as named in messages (never the value)
    const char* provider;  // the governor's provider to resume after a credentials stop
    SecretCell* cell;      // nullptr: the provider is not in use
    std::string value;
    bool required;  // an empty new value is an error (the fallback's own key is optional)
  };
  const Slot slots[] = {
      {"OPENAI_API_KEY", "openai", openai_key_.get(), fresh.openai.api_key, true},
      {"embed.fallback_api_key", "openai-fallback", openai_fallback_key_.get(),
       fresh.embed.fallback_api_key, false},
      {"LLAMA_CLOUD_API_KEY", "llamaparse", llamaparse_key_.get(), fresh.llamaparse.api_key, true},
  };
  for (const Slot& s : slots) {
    if (s.cell == nullptr) continue;
    if (s.value.empty()) {
      if (s.required) out.kept.push_back(s.name);
      continue;
    }
    if (!s.cell->Set(s.value)) continue;
    out.changed.push_back(s.name);
    // Refused credentials stopped the provider; a new key is what `providers resume` waits for.
    auto states = store_->ListProviderStates();
    if (!states.ok()) return states.status();
    for (const store::ProviderState& st : *states) {
      if (st.provider != s.provider || !st.stopped) continue;
      if (st.reason == "invalid_api_key" || st.reason == "unauthenticated" ||
          st.reason == "auth_failed" || st.reason == "permission_denied") {
        INGEST_RETURN_IF_ERROR(governor_->ResumeProvider(st.provider));
      }
    }
  }
  return out;
}

void ReloadSecretsFromConfig(const GlobalOptions& global, App& app) {
  auto fresh = LoadConfigFor(global);
  if (!fresh.ok()) {
    obs::LogError("secret reload failed; the previous secrets stay in use",
                  {{"error", fresh.status().message()}});
    store::AuditEntry e;
    e.actor = "signal:SIGHUP";
    e.action = "secrets.reload";
    e.source = "local";
    e.result = fresh.status().reason().empty() ? "config_error" : fresh.status().reason();
    if (Status a = app.store().AppendAudit(e); !a.ok()) {
      obs::LogError("audit row not written", {{"action", e.action}, {"error", a.message()}});
    }
    return;
  }
  auto r = app.ReloadSecrets(*fresh);
  // Who sent the signal is not known here; the row records that it happened and what changed
  // (by name), as for the TLS reload.
  store::AuditEntry e;
  e.actor = "signal:SIGHUP";
  e.action = "secrets.reload";
  e.source = "local";
  e.result = r.ok() ? (r->kept.empty() ? "ok" : "secret_missing") : r.status().reason();
  if (r.ok()) e.detail_json = nlohmann::json{{"changed", r->changed}, {"kept", r->kept}}.dump();
  if (Status a = app.store().AppendAudit(e); !a.ok()) {
    obs::LogError("audit row not written", {{"action", e.action}, {"error", a.message()}});
  }
  if (!r.ok()) {
    obs::LogError("secret reload failed", {{"error", r.status().message()}});
    return;
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const std::string& n : v) s += (s.empty() ? "" : ",") + n;
    return s;
  };
  if (!r->kept.empty()) {
    obs::LogError("secret reload: new value empty or missing; the previous one stays in use",
                  {{"secrets", join(r->kept)}});
  }
  obs::LogInfo(r->changed.empty() ? "secrets reloaded: none changed" : "secrets reloaded",
               {{"changed", join(r->changed)}});
}

pipeline::PipelineDeps App::Deps() const {
  pipeline::PipelineDeps deps;
  deps.store = store_.get();
  deps.blobs = blobs_.get();
  deps.parser = parser_.get();
  deps.embedder = embedder_.get();
  deps.tokens = tokenizer_;
  deps.clock = clock_;
  deps.prices = &prices_;
  deps.governor = governor_.get();
  deps.embed_tokens = embed_tokens_ != nullptr ? embed_tokens_ : tokenizer_;
  deps.chunker.max_tokens = static_cast<size_t>(config_.chunk.max_tokens);
  deps.chunker.overlap_tokens = static_cast<size_t>(config_.chunk.overlap_tokens);
  deps.limits.max_bytes = config_.parse.max_bytes;
  deps.limits.max_pages = config_.parse.max_pages;
  deps.limits.max_uncompressed_bytes = config_.parse.max_uncompressed_bytes;
  deps.limits.max_compression_ratio = config_.parse.max_compression_ratio;
  deps.embed_batch_size = config_.pipeline.embed_batch_size;
  deps.query_cache_entries = config_.embed.query_cache_entries;
  deps.retry.max_attempts = config_.pipeline.max_attempts;
  deps.retry.base = Duration(config_.pipeline.backoff_base_ms);
  deps.retry.cap = Duration(config_.pipeline.backoff_cap_ms);
  return deps;
}

}  // namespace ingest::app
