#include "ingest/config/config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>

#include "ingest/common/rate_spec.h"

extern char** environ;

namespace ingest::config {
namespace {

enum class Kind { kString, kInt, kSecret, kBool };

// One configuration key: its dotted path, type, optional environment variable, and where it
// lives in Config. The table below is the single list of keys: loading from TOML, from the
// environment, printing and validation all walk it.
struct IntSetter {
  std::function<void(Config&, int64_t)> set;
  std::function<int64_t(const Config&)> get;
};

template <typename Sub, typename T>
IntSetter MakeIntSetter(Sub Config::*sub, T Sub::*m) {
  return {[sub, m](Config& c, int64_t v) { c.*sub.*m = static_cast<T>(v); },
          [sub, m](const Config& c) { return static_cast<int64_t>(c.*sub.*m); }};
}

struct Key {
  std::string key;
  Kind kind;
  std::string env;
  std::function<std::string*(Config&)> str;  // kString, kSecret
  IntSetter num;                             // kInt, kBool (0/1)
};

template <typename Sub>
Key KS(std::string key, std::string env, Sub Config::*sub, std::string Sub::*m,
       Kind kind = Kind::kString) {
  return Key{
      std::move(key), kind, std::move(env), [sub, m](Config& c) { return &(c.*sub.*m); }, {}};
}

template <typename Sub, typename T>
Key KN(std::string key, std::string env, Sub Config::*sub, T Sub::*m) {
  return Key{std::move(key), Kind::kInt, std::move(env), nullptr, MakeIntSetter(sub, m)};
}

template <typename Sub>
Key KB(std::string key, std::string env, Sub Config::*sub, bool Sub::*m) {
  return Key{std::move(key), Kind::kBool, std::move(env), nullptr, MakeIntSetter(sub, m)};
}

const std::vector<Key>& Keys() {
  static const std::vector<Key> keys = {
      Key{"mode", Kind::kString, "INGESTD_MODE", [](Config& c) { return &c.mode; }, {}},
      KS("store.url", "INGESTD_STORE", &Config::store, &StoreConfig::url),
      KS("store.data_dir", "INGESTD_DATA_DIR", &Config::store, &StoreConfig::data_dir),
      KS("blobs.url", "INGESTD_BLOBS_URL", &Config::blobs, &BlobsConfig::url),
      KS("blobs.s3_endpoint", "INGESTD_BLOBS_S3_ENDPOINT", &Config::blobs,
         &BlobsConfig::s3_endpoint),
      KS("blobs.s3_region", "INGESTD_BLOBS_S3_REGION", &Config::blobs, &BlobsConfig::s3_region),
      KS("blobs.s3_access_key_id", "AWS_ACCESS_KEY_ID", &Config::blobs,
         &BlobsConfig::s3_access_key_id, Kind::kSecret),
      KS("blobs.s3_secret_access_key", "AWS_SECRET_ACCESS_KEY", &Config::blobs,
         &BlobsConfig::s3_secret_access_key, Kind::kSecret),
      KS("blobs.s3_session_token", "AWS_SESSION_TOKEN", &Config::blobs,
         &BlobsConfig::s3_session_token, Kind::kSecret),
      KS("blobs.cache_dir", "INGESTD_BLOBS_CACHE_DIR", &Config::blobs, &BlobsConfig::cache_dir),
      KN("blobs.cache_max_mb", "INGESTD_BLOBS_CACHE_MAX_MB", &Config::blobs,
         &BlobsConfig::cache_max_mb),
      KN("blobs.cache_grace_s", "INGESTD_BLOBS_CACHE_GRACE_S", &Config::blobs,
         &BlobsConfig::cache_grace_s),
      KN("pipeline.workers", "INGESTD_WORKERS", &Config::pipeline, &PipelineConfig::workers),
      KN("pipeline.lease_ttl_s", "INGESTD_LEASE_TTL_S", &Config::pipeline,
         &PipelineConfig::lease_ttl_s),
      KN("pipeline.max_attempts", "INGESTD_MAX_ATTEMPTS", &Config::pipeline,
         &PipelineConfig::max_attempts),
      KN("pipeline.backoff_base_ms", "INGESTD_BACKOFF_BASE_MS", &Config::pipeline,
         &PipelineConfig::backoff_base_ms),
      KN("pipeline.backoff_cap_ms", "INGESTD_BACKOFF_CAP_MS", &Config::pipeline,
         &PipelineConfig::backoff_cap_ms),
      KN("pipeline.embed_batch_size", "INGESTD_EMBED_BATCH_SIZE", &Config::pipeline,
         &PipelineConfig::embed_batch_size),
      KS("pipeline.tenant", "INGESTD_TENANT", &Config::pipeline, &PipelineConfig::tenant),
      KN("pipeline.stopped_provider_wait_s", "INGESTD_STOPPED_PROVIDER_WAIT_S", &Config::pipeline,
         &PipelineConfig::stopped_provider_wait_s),
      KS("parse.parser", "INGESTD_PARSER", &Config::parse, &ParseConfig::parser),
      KN("parse.max_bytes", "INGESTD_MAX_BYTES", &Config::parse, &ParseConfig::max_bytes),
      KN("parse.max_pages", "INGESTD_MAX_PAGES", &Config::parse, &ParseConfig::max_pages),
      KN("parse.max_uncompressed_bytes", "INGESTD_MAX_UNCOMPRESSED_BYTES", &Config::parse,
         &ParseConfig::max_uncompressed_bytes),
      KN("parse.max_compression_ratio", "INGESTD_MAX_COMPRESSION_RATIO", &Config::parse,
         &ParseConfig::max_compression_ratio),
      KS("parse.isolation", "INGESTD_PARSE_ISOLATION", &Config::parse, &ParseConfig::isolation),
      KN("parse.timeout_s", "INGESTD_PARSE_TIMEOUT_S", &Config::parse, &ParseConfig::timeout_s),
      KN("parse.cpu_limit_s", "INGESTD_PARSE_CPU_LIMIT_S", &Config::parse,
         &ParseConfig::cpu_limit_s),
      KN("parse.memory_limit_mb", "INGESTD_PARSE_MEMORY_LIMIT_MB", &Config::parse,
         &ParseConfig::memory_limit_mb),
      KN("parse.max_output_bytes", "INGESTD_PARSE_MAX_OUTPUT_BYTES", &Config::parse,
         &ParseConfig::max_output_bytes),
      KN("parse.auto_min_chars_per_page", "INGESTD_AUTO_MIN_CHARS_PER_PAGE", &Config::parse,
         &ParseConfig::auto_min_chars_per_page),
      KS("parse.fallback", "INGESTD_PARSE_FALLBACK", &Config::parse, &ParseConfig::fallback),
      KN("parse.fallback_after_attempts", "INGESTD_PARSE_FALLBACK_AFTER_ATTEMPTS", &Config::parse,
         &ParseConfig::fallback_after_attempts),
      KB("parse.ocr", "INGESTD_OCR", &Config::parse, &ParseConfig::ocr),
      KS("parse.ocr_languages", "INGESTD_OCR_LANGUAGES", &Config::parse,
         &ParseConfig::ocr_languages),
      KN("parse.ocr_dpi", "INGESTD_OCR_DPI", &Config::parse, &ParseConfig::ocr_dpi),
      KN("parse.ocr_min_confidence", "INGESTD_OCR_MIN_CONFIDENCE", &Config::parse,
         &ParseConfig::ocr_min_confidence),
      KN("parse.ocr_threads", "INGESTD_OCR_THREADS", &Config::parse, &ParseConfig::ocr_threads),
      KN("parse.pdf_threads", "INGESTD_PDF_THREADS", &Config::parse, &ParseConfig::pdf_threads),
      KN("parse.ocr_page_timeout_s", "INGESTD_OCR_PAGE_TIMEOUT_S", &Config::parse,
         &ParseConfig::ocr_page_timeout_s),
      KN("parse.ocr_budget_s", "INGESTD_OCR_BUDGET_S", &Config::parse, &ParseConfig::ocr_budget_s),
      KN("parse.ocr_max_page_pixels", "INGESTD_OCR_MAX_PAGE_PIXELS", &Config::parse,
         &ParseConfig::ocr_max_page_pixels),
      KN("parse.ocr_min_chars_per_page", "INGESTD_OCR_MIN_CHARS_PER_PAGE", &Config::parse,
         &ParseConfig::ocr_min_chars_per_page),
      KS("parse.ocr_tessdata_dir", "INGESTD_OCR_TESSDATA_DIR", &Config::parse,
         &ParseConfig::ocr_tessdata_dir),
      KN("chunk.max_tokens", "INGESTD_CHUNK_MAX_TOKENS", &Config::chunk, &ChunkConfig::max_tokens),
      KN("chunk.overlap_tokens", "INGESTD_CHUNK_OVERLAP_TOKENS", &Config::chunk,
         &ChunkConfig::overlap_tokens),
      KS("chunk.encoding", "INGESTD_CHUNK_ENCODING", &Config::chunk, &ChunkConfig::encoding),
      KS("embed.provider", "INGESTD_EMBEDDER", &Config::embed, &EmbedConfig::provider),
      KS("embed.model", "INGESTD_EMBED_MODEL", &Config::embed, &EmbedConfig::model),
      KN("embed.dimensions", "INGESTD_EMBED_DIMENSIONS", &Config::embed, &EmbedConfig::dimensions),
      KN("embed.query_cache_entries", "INGESTD_QUERY_CACHE_ENTRIES", &Config::embed,
         &EmbedConfig::query_cache_entries),
      KS("embed.fallback_base_url", "INGESTD_EMBED_FALLBACK_BASE_URL", &Config::embed,
         &EmbedConfig::fallback_base_url),
      KS("embed.fallback_model", "INGESTD_EMBED_FALLBACK_MODEL", &Config::embed,
         &EmbedConfig::fallback_model),
      KN("embed.fallback_dimensions", "INGESTD_EMBED_FALLBACK_DIMENSIONS", &Config::embed,
         &EmbedConfig::fallback_dimensions),
      KS("embed.fallback_api_key", "INGESTD_EMBED_FALLBACK_API_KEY", &Config::embed,
         &EmbedConfig::fallback_api_key, Kind::kSecret),
      KS("openai.api_key", "OPENAI_API_KEY", &Config::openai, &ProviderConfig::api_key,
         Kind::kSecret),
      KS("openai.base_url", "OPENAI_BASE_URL", &Config::openai, &ProviderConfig::base_url),
      KS("llamaparse.api_key", "LLAMA_CLOUD_API_KEY", &Config::llamaparse, &ProviderConfig::api_key,
         Kind::kSecret),
      KS("llamaparse.base_url", "LLAMA_CLOUD_BASE_URL", &Config::llamaparse,
         &ProviderConfig::base_url),
      KS("llamaparse.parse_mode", "INGESTD_LLAMAPARSE_MODE", &Config::parse,
         &ParseConfig::llamaparse_mode),
      KN("llamaparse.poll_deadline_s", "INGESTD_LLAMAPARSE_POLL_DEADLINE_S", &Config::parse,
         &ParseConfig::llamaparse_poll_deadline_s),
      KS("llamaparse.webhook_url", "INGESTD_LLAMAPARSE_WEBHOOK_URL", &Config::parse,
         &ParseConfig::llamaparse_webhook_url),
      KS("llamaparse.webhook_secret", "INGESTD_LLAMAPARSE_WEBHOOK_SECRET", &Config::parse,
         &ParseConfig::llamaparse_webhook_secret, Kind::kSecret),
      KS("pricing.embedding_per_1m_usd", "INGESTD_PRICING_EMBEDDING_PER_1M_USD", &Config::pricing,
         &PricingConfig::embedding_per_1m_usd),
      KS("pricing.llamaparse_usd_per_1000_credits",
         "INGESTD_PRICING_LLAMAPARSE_USD_PER_1000_CREDITS", &Config::pricing,
         &PricingConfig::llamaparse_usd_per_1000_credits),
      KN("governor.openai_rpm", "INGESTD_OPENAI_RPM", &Config::governor,
         &GovernorConfig::openai_rpm),
      KN("governor.openai_tpm", "INGESTD_OPENAI_TPM", &Config::governor,
         &GovernorConfig::openai_tpm),
      KN("governor.llamaparse_rpm", "INGESTD_LLAMAPARSE_RPM", &Config::governor,
         &GovernorConfig::llamaparse_rpm),
      KN("governor.rate_target_percent", "INGESTD_RATE_TARGET_PERCENT", &Config::governor,
         &GovernorConfig::rate_target_percent),
      KN("governor.max_rate_wait_ms", "INGESTD_MAX_RATE_WAIT_MS", &Config::governor,
         &GovernorConfig::max_rate_wait_ms),
      KN("governor.reservation_ttl_s", "INGESTD_RESERVATION_TTL_S", &Config::governor,
         &GovernorConfig::reservation_ttl_s),
      KN("governor.breaker_window_s", "INGESTD_BREAKER_WINDOW_S", &Config::governor,
         &GovernorConfig::breaker_window_s),
      KN("governor.breaker_min_calls", "INGESTD_BREAKER_MIN_CALLS", &Config::governor,
         &GovernorConfig::breaker_min_calls),
      KN("governor.breaker_failure_percent", "INGESTD_BREAKER_FAILURE_PERCENT", &Config::governor,
         &GovernorConfig::breaker_failure_percent),
      KN("governor.breaker_open_s", "INGESTD_BREAKER_OPEN_S", &Config::governor,
         &GovernorConfig::breaker_open_s),
      KN("governor.stop_probe_after_s", "INGESTD_STOP_PROBE_AFTER_S", &Config::governor,
         &GovernorConfig::stop_probe_after_s),
      KS("pricing.llamaparse_credits_per_page", "INGESTD_PRICING_LLAMAPARSE_CREDITS_PER_PAGE",
         &Config::pricing, &PricingConfig::llamaparse_credits_per_page),
      KS("api.listen", "INGESTD_LISTEN", &Config::api, &ApiConfig::listen),
      KS("api.admin_token", "INGESTD_ADMIN_TOKEN", &Config::api, &ApiConfig::admin_token,
         Kind::kSecret),
      KN("api.backlog", "INGESTD_API_BACKLOG", &Config::api, &ApiConfig::backlog),
      KN("api.threads", "INGESTD_API_THREADS", &Config::api, &ApiConfig::threads),
      KN("api.max_connections", "INGESTD_API_MAX_CONNECTIONS", &Config::api,
         &ApiConfig::max_connections),
      KN("api.keep_alive_timeout_s", "INGESTD_API_KEEP_ALIVE_TIMEOUT_S", &Config::api,
         &ApiConfig::keep_alive_timeout_s),
      KN("api.keep_alive_max_requests", "INGESTD_API_KEEP_ALIVE_MAX_REQUESTS", &Config::api,
         &ApiConfig::keep_alive_max_requests),
      KN("api.header_timeout_s", "INGESTD_API_HEADER_TIMEOUT_S", &Config::api,
         &ApiConfig::header_timeout_s),
      KN("api.read_timeout_s", "INGESTD_API_READ_TIMEOUT_S", &Config::api,
         &ApiConfig::read_timeout_s),
      KN("api.write_timeout_s", "INGESTD_API_WRITE_TIMEOUT_S", &Config::api,
         &ApiConfig::write_timeout_s),
      KN("api.request_timeout_s", "INGESTD_API_REQUEST_TIMEOUT_S", &Config::api,
         &ApiConfig::request_timeout_s),
      KN("api.max_header_bytes", "INGESTD_API_MAX_HEADER_BYTES", &Config::api,
         &ApiConfig::max_header_bytes),
      KB("api.reuse_port", "INGESTD_API_REUSE_PORT", &Config::api, &ApiConfig::reuse_port),
      KS("api.tls_cert_file", "INGESTD_TLS_CERT_FILE", &Config::api, &ApiConfig::tls_cert_file),
      KS("api.tls_key_file", "INGESTD_TLS_KEY_FILE", &Config::api, &ApiConfig::tls_key_file),
      KS("api.tls_client_ca_file", "INGESTD_TLS_CLIENT_CA_FILE", &Config::api,
         &ApiConfig::tls_client_ca_file),
      KB("api.allow_plaintext", "INGESTD_API_ALLOW_PLAINTEXT", &Config::api,
         &ApiConfig::allow_plaintext),
      KS("api.rate_limit_per_key", "INGESTD_API_RATE_LIMIT_PER_KEY", &Config::api,
         &ApiConfig::rate_limit_per_key),
      KS("api.rate_limit_per_tenant", "INGESTD_API_RATE_LIMIT_PER_TENANT", &Config::api,
         &ApiConfig::rate_limit_per_tenant),
      KS("alert.webhook_url", "INGESTD_ALERT_WEBHOOK_URL", &Config::alert,
         &AlertConfig::webhook_url, Kind::kSecret),
      KS("alert.webhook_format", "INGESTD_ALERT_WEBHOOK_FORMAT", &Config::alert,
         &AlertConfig::webhook_format),
      KN("alert.interval_s", "INGESTD_ALERT_INTERVAL_S", &Config::alert, &AlertConfig::interval_s),
      KN("alert.repeat_interval_s", "INGESTD_ALERT_REPEAT_INTERVAL_S", &Config::alert,
         &AlertConfig::repeat_interval_s),
      KS("log.level", "INGESTD_LOG_LEVEL", &Config::log, &LogConfig::level),
      KS("log.format", "INGESTD_LOG_FORMAT", &Config::log, &LogConfig::format),
      KS("search.fts_language", "INGESTD_FTS_LANGUAGE", &Config::search,
         &SearchConfig::fts_language),
  };
  return keys;
}

std::string Where(const std::string& file, const toml::source_region& src) {
  return fmt::format("{}:{}", file, src.begin.line);
}

// Reads `table` (the file's top level or one profile table) into `config`.
Status ApplyTable(const toml::table& table, const std::string& file, Config& config) {
  for (const Key& k : Keys()) {
    const toml::node* node = table.at_path(k.key).node();
    if (node == nullptr) continue;
    std::string where = Where(file, node->source());
    if (k.kind == Kind::kInt) {
      auto v = node->value<int64_t>();
      if (!v) {
        return InvalidArgument(fmt::format("{}: {} must be an integer", where, k.key),
                               "config_invalid");
      }
      k.num.set(config, *v);
    } else if (k.kind == Kind::kBool) {
      auto v = node->value<bool>();
      if (!v) {
        return InvalidArgument(fmt::format("{}: {} must be true or false", where, k.key),
                               "config_invalid");
      }
      k.num.set(config, *v ? 1 : 0);
    } else {
      auto v = node->value<std::string>();
      if (!v) {
        return InvalidArgument(fmt::format("{}: {} must be a string", where, k.key),
                               "config_invalid");
      }
      *k.str(config) = *v;
    }
    config.origins[k.key] = where;
  }
  // Unknown keys are errors: a typo must not silently fall back to a default.
  std::vector<std::string> unknown;
  std::function<void(const toml::table&, const std::string&)> walk =
      [&](const toml::table& t, const std::string& prefix) {
        for (const auto& [name, node] : t) {
          std::string path =
              prefix.empty() ? std::string(name.str()) : prefix + "." + std::string(name.str());
          // [[budget]] tables are read by app/config_budgets.h.
          if (prefix.empty() && (name.str() == "profile" || name.str() == "budget")) continue;
          if (const toml::table* sub = node.as_table()) {
            walk(*sub, path);
            continue;
          }
          bool known = false;
          for (const Key& k : Keys()) known = known || k.key == path;
          if (!known) unknown.push_back(Where(file, node.source()) + ": unknown key " + path);
        }
      };
  walk(table, "");
  if (!unknown.empty()) return InvalidArgument(unknown.front(), "config_invalid");
  return Status::Ok();
}

Status ApplyEnv(const std::map<std::string, std::string>& env, Config& config) {
  for (const Key& k : Keys()) {
    if (k.env.empty()) continue;
    std::string value;
    std::string origin;
    if (auto it = env.find(k.env); it != env.end()) {
      value = it->second;
      origin = "env " + k.env;
    } else if (auto f = env.find(k.env + "_FILE"); f != env.end() && k.kind == Kind::kSecret) {
      std::ifstream in(f->second, std::ios::binary);
      if (!in) {
        return InvalidArgument(fmt::format("env {}_FILE: cannot read {}", k.env, f->second),
                               "config_invalid");
      }
      std::stringstream ss;
      ss << in.rdbuf();
      value = ss.str();
      while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
      origin = "file " + k.env + "_FILE";
    } else {
      continue;
    }
    if (k.kind == Kind::kInt) {
      char* end = nullptr;
      long long v = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0') {
        return InvalidArgument(
            fmt::format("env {}: {} must be an integer, got \"{}\"", k.env, k.key, value),
            "config_invalid");
      }
      k.num.set(config, v);
    } else if (k.kind == Kind::kBool) {
      if (value != "true" && value != "false" && value != "1" && value != "0") {
        return InvalidArgument(
            fmt::format("env {}: {} must be true or false, got \"{}\"", k.env, k.key, value),
            "config_invalid");
      }
      k.num.set(config, value == "true" || value == "1" ? 1 : 0);
    } else {
      *k.str(config) = value;
    }
    config.origins[k.key] = origin;
  }
  return Status::Ok();
}

Status OneOf(const Config& c, const std::string& key, const std::string& value,
             std::initializer_list<const char*> allowed) {
  for (const char* a : allowed) {
    if (value == a) return Status::Ok();
  }
  std::string list;
  for (const char* a : allowed) list += (list.empty() ? "" : "|") + std::string(a);
  auto it = c.origins.find(key);
  std::string where = it == c.origins.end() ? "default" : it->second;
  return InvalidArgument(
      fmt::format("{}: {} must be one of {}, got \"{}\"", where, key, list, value),
      "config_invalid");
}

Status AtLeast(const Config& c, const std::string& key, int64_t value, int64_t min) {
  if (value >= min) return Status::Ok();
  auto it = c.origins.find(key);
  std::string where = it == c.origins.end() ? "default" : it->second;
  return InvalidArgument(fmt::format("{}: {} must be >= {}, got {}", where, key, min, value),
                         "config_invalid");
}

// blobs.url is a folder, a PostgreSQL database or an S3 bucket; an S3 store needs both halves of
// its credentials (named by variable, never shown).
Status ValidateBlobs(const Config& c) {
  const std::string& url = c.blobs.url;
  auto where = [&c](const char* key) {
    auto it = c.origins.find(key);
    return it == c.origins.end() ? std::string("default") : it->second;
  };
  const bool file = url.rfind("file://", 0) == 0 && url.size() > 7;
  const bool pg = url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
  const bool s3 = url.rfind("s3://", 0) == 0 && url.size() > 5 && url[5] != '/';
  if (!file && !pg && !s3) {
    return InvalidArgument(
        fmt::format("{}: blobs.url must be file:///PATH, postgresql://... or s3://BUCKET/PREFIX, "
                    "got \"{}\"",
                    where("blobs.url"), url),
        "config_invalid");
  }
  if (s3 && (c.blobs.s3_access_key_id.empty() || c.blobs.s3_secret_access_key.empty())) {
    return InvalidArgument(
        fmt::format("{}: blobs.url {} needs S3 credentials: set AWS_ACCESS_KEY_ID and "
                    "AWS_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID_FILE and "
                    "AWS_SECRET_ACCESS_KEY_FILE)",
                    where("blobs.url"), url),
        "config_invalid");
  }
  INGEST_RETURN_IF_ERROR(AtLeast(c, "blobs.cache_max_mb", c.blobs.cache_max_mb, 1));
  return AtLeast(c, "blobs.cache_grace_s", c.blobs.cache_grace_s, 0);
}

// `mode` is a preset over the per-service choices (DESIGN §4). It only fills choices the user
// did not make explicitly: real, mock and hybrid all select the OpenAI embedder and `auto`
// parsing (LlamaParse for what the local parsers cannot read well); mock points both at
// emulators (app/app.cc starts them in-process unless base URLs are given); hybrid also turns on
// the local parse fallback (parse.fallback = "local").
void ApplyMode(Config& c) {
  auto explicit_key = [&](const char* key) {
    auto it = c.origins.find(key);
    return it != c.origins.end() && it->second.rfind("default", 0) != 0 &&
           it->second.rfind("mode", 0) != 0;
  };
  auto preset = [&](const char* key, std::string& field, const char* value) {
    if (explicit_key(key)) return;
    field = value;
    c.origins[key] = "mode " + c.mode;
  };
  if (c.mode != "real" && c.mode != "mock" && c.mode != "hybrid") return;
  preset("embed.provider", c.embed.provider, "openai");
  preset("parse.parser", c.parse.parser, "auto");
  if (c.mode == "hybrid") preset("parse.fallback", c.parse.fallback, "local");
}

// Host of an http(s) URL, lower-cased ("" when there is none).
std::string UrlHost(std::string_view url) {
  size_t start = url.find("://");
  if (start == std::string_view::npos) return "";
  start += 3;
  size_t end = url.size() > start && url[start] == '[' ? url.find(']', start) + 1  // [IPv6]
                                                       : url.find_first_of("/:?#", start);
  std::string host(url.substr(start, end == std::string_view::npos ? url.npos : end - start));
  for (char& ch : host) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return host;
}

bool IsVendorHost(const std::string& host) {
  auto ends_with = [&](std::string_view suffix) {
    return host.size() >= suffix.size() &&
           host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return host == "api.openai.com" || ends_with(".openai.com") || ends_with(".openai.azure.com") ||
         host == "llamaindex.ai" || ends_with(".llamaindex.ai");
}

std::string OriginOf(const Config& c, const std::string& key) {
  auto it = c.origins.find(key);
  return it == c.origins.end() ? "default" : it->second;
}

// Mock never spends money (DESIGN §4): refused in production, and its explicit base URLs (an
// emulator shared by a staging setup) may not name the paid services.
Status ValidateMock(const Config& c) {
  if (c.mode != "mock") return Status::Ok();
  if (c.profile == "production") {
    return InvalidArgument(
        fmt::format("{}: mode \"mock\" is refused in the production profile", OriginOf(c, "mode")),
        "config_invalid");
  }
  const std::pair<const char*, const std::string*> urls[] = {
      {"openai.base_url", &c.openai.base_url},
      {"llamaparse.base_url", &c.llamaparse.base_url},
      {"embed.fallback_base_url", &c.embed.fallback_base_url}};
  for (const auto& [key, url] : urls) {
    if (!url->empty() && IsVendorHost(UrlHost(*url))) {
      return InvalidArgument(
          fmt::format("{}: mode \"mock\" must not call the paid service: {} is {} (point it at "
                      "`ingestd emulate`, or leave it unset to use in-process emulators)",
                      OriginOf(c, key), key, *url),
          "config_invalid");
    }
  }
  return Status::Ok();
}

// The LlamaParse webhook base URL: https with a domain name (what LlamaParse calls), or http(s)
// on a loopback host for the emulator; short enough for LlamaParse's 200-character limit once
// the per-job path and token (99 characters) are appended; and a secret to sign it.
Status ValidateLlamaParseWebhook(const Config& c) {
  const std::string& url = c.parse.llamaparse_webhook_url;
  if (url.empty()) return Status::Ok();
  const std::string where = OriginOf(c, "llamaparse.webhook_url");
  auto bad = [&](const std::string& why) {
    return InvalidArgument(fmt::format("{}: llamaparse.webhook_url \"{}\": {}", where, url, why),
                           "config_invalid");
  };
  const bool https = url.rfind("https://", 0) == 0;
  if (!https && url.rfind("http://", 0) != 0) return bad("must start with https://");
  if (url.size() > 100) {
    return bad("longer than 100 characters (LlamaParse refuses webhook URLs of 200 or more)");
  }
  if (url.find_first_of("?#") != std::string::npos) return bad("must not have a query or fragment");
  const std::string host = UrlHost(url);
  if (host.empty()) return bad("no host");
  const bool loopback = host == "127.0.0.1" || host == "localhost" || host == "[::1]";
  if (!loopback) {
    if (!https) return bad("LlamaParse calls https URLs only (http is allowed on loopback)");
    if (host.front() == '[' || host.find_first_not_of("0123456789.") == std::string::npos) {
      return bad("LlamaParse needs a domain name, not an IP address");
    }
  }
  if (c.parse.llamaparse_webhook_secret.size() < 16) {
    return InvalidArgument(
        fmt::format("{}: llamaparse.webhook_url needs llamaparse.webhook_secret (or "
                    "INGESTD_LLAMAPARSE_WEBHOOK_SECRET_FILE) of at least 16 bytes",
                    where),
        "config_invalid");
  }
  return Status::Ok();
}

// An embedding fallback may only go to an endpoint serving the same model (DESIGN §4).
Status ValidateEmbedFallback(const Config& c) {
  if (c.embed.fallback_base_url.empty()) {
    if (!c.embed.fallback_model.empty()) {
      return InvalidArgument(fmt::format("{}: embed.fallback_model is set but "
                                         "embed.fallback_base_url is not",
                                         OriginOf(c, "embed.fallback_model")),
                             "config_invalid");
    }
    return Status::Ok();
  }
  const std::string where = OriginOf(c, "embed.fallback_base_url");
  if (c.embed.provider != "openai") {
    return InvalidArgument(
        fmt::format("{}: embed.fallback_base_url needs embed.provider = \"openai\" (got \"{}\")",
                    where, c.embed.provider),
        "config_invalid");
  }
  if (c.embed.fallback_model != c.embed.model) {
    return InvalidArgument(
        fmt::format("{}: embed.fallback_model (\"{}\") must equal embed.model (\"{}\"): an "
                    "embedding fallback may only go to an endpoint serving the same model, so "
                    "its vectors share the primary's space",
                    OriginOf(c, c.embed.fallback_model.empty() ? "embed.fallback_base_url"
                                                               : "embed.fallback_model"),
                    c.embed.fallback_model, c.embed.model),
        "config_invalid");
  }
  if (c.embed.fallback_dimensions != c.embed.dimensions) {
    return InvalidArgument(
        fmt::format("{}: embed.fallback_dimensions ({}) must equal embed.dimensions ({}): "
                    "vectors from both endpoints land in one space",
                    OriginOf(c, "embed.fallback_dimensions"), c.embed.fallback_dimensions,
                    c.embed.dimensions),
        "config_invalid");
  }
  if (c.embed.fallback_base_url == c.openai.base_url) {
    return InvalidArgument(
        fmt::format("{}: embed.fallback_base_url is the primary endpoint (openai.base_url)", where),
        "config_invalid");
  }
  return Status::Ok();
}

// The listener's limits, and TLS: both files or neither; in production a non-loopback address
// needs TLS unless api.allow_plaintext says a TLS-terminating proxy sits in front.
Status ValidateApi(const Config& c) {
  INGEST_RETURN_IF_ERROR(AtLeast(c, "api.backlog", c.api.backlog, 1));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "api.threads", c.api.threads, 0));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "api.max_connections", c.api.max_connections, 1));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "api.keep_alive_timeout_s", c.api.keep_alive_timeout_s, 1));
  INGEST_RETURN_IF_ERROR(
      AtLeast(c, "api.keep_alive_max_requests", c.api.keep_alive_max_requests, 1));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "api.header_timeout_s", c.api.header_timeout_s, 1));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "api.read_timeout_s", c.api.read_timeout_s, 1));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "api.write_timeout_s", c.api.write_timeout_s, 1));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "api.request_timeout_s", c.api.request_timeout_s, 1));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "api.max_header_bytes", c.api.max_header_bytes, 1024));
  if (c.api.tls_cert_file.empty() != c.api.tls_key_file.empty()) {
    return InvalidArgument(
        fmt::format(
            "{}: api.tls_cert_file and api.tls_key_file must be set together",
            OriginOf(c, c.api.tls_cert_file.empty() ? "api.tls_key_file" : "api.tls_cert_file")),
        "config_invalid");
  }
  if (!c.api.tls_client_ca_file.empty() && c.api.tls_cert_file.empty()) {
    return InvalidArgument(
        fmt::format("{}: api.tls_client_ca_file needs api.tls_cert_file and api.tls_key_file",
                    OriginOf(c, "api.tls_client_ca_file")),
        "config_invalid");
  }
  for (const auto& [key, value] :
       {std::pair{"api.rate_limit_per_key", &c.api.rate_limit_per_key},
        std::pair{"api.rate_limit_per_tenant", &c.api.rate_limit_per_tenant}}) {
    if (auto spec = ParseRateSpec(*value); !spec.ok()) {
      return InvalidArgument(
          fmt::format("{}: {}: {}", OriginOf(c, key), key, spec.status().message()),
          "config_invalid");
    }
  }
  return Status::Ok();
}

Status Validate(const Config& c) {
  if (auto r = ParseModelUsdList(c.pricing.embedding_per_1m_usd); !r.ok()) {
    return r.status().WithContext("pricing.embedding_per_1m_usd");
  }
  if (auto r = ParseModeCreditsList(c.pricing.llamaparse_credits_per_page); !r.ok()) {
    return r.status().WithContext("pricing.llamaparse_credits_per_page");
  }
  if (!c.pricing.llamaparse_usd_per_1000_credits.empty()) {
    if (auto r = ParseUsdPerUnitNanos(c.pricing.llamaparse_usd_per_1000_credits, 1000); !r.ok()) {
      return r.status().WithContext("pricing.llamaparse_usd_per_1000_credits");
    }
  }
  INGEST_RETURN_IF_ERROR(OneOf(c, "mode", c.mode, {"", "real", "mock", "hybrid"}));
  INGEST_RETURN_IF_ERROR(OneOf(c, "parse.parser", c.parse.parser, {"local", "llamaparse", "auto"}));
  INGEST_RETURN_IF_ERROR(OneOf(c, "embed.provider", c.embed.provider, {"local", "openai"}));
  INGEST_RETURN_IF_ERROR(
      OneOf(c, "chunk.encoding", c.chunk.encoding, {"cl100k_base", "o200k_base"}));
  INGEST_RETURN_IF_ERROR(
      OneOf(c, "alert.webhook_format", c.alert.webhook_format, {"alertmanager", "slack"}));
  if (c.alert.interval_s < 1 || c.alert.repeat_interval_s < 1) {
    return InvalidArgument("alert.interval_s and alert.repeat_interval_s must be >= 1 second",
                           "config_invalid");
  }
  INGEST_RETURN_IF_ERROR(
      OneOf(c, "log.level", c.log.level, {"trace", "debug", "info", "warn", "error"}));
  INGEST_RETURN_IF_ERROR(OneOf(c, "log.format", c.log.format, {"json", "text", "auto"}));
  // A text search configuration's name (PostgreSQL checks that it exists at `migrate up`).
  if (c.search.fts_language.empty() ||
      c.search.fts_language.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") !=
          std::string::npos) {
    return InvalidArgument(
        "search.fts_language must be a lower-case text search configuration "
        "name such as english or simple, got \"" +
            c.search.fts_language + "\"",
        "config_invalid");
  }
  INGEST_RETURN_IF_ERROR(AtLeast(c, "pipeline.workers", c.pipeline.workers, 0));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "pipeline.lease_ttl_s", c.pipeline.lease_ttl_s, 2));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "pipeline.max_attempts", c.pipeline.max_attempts, 1));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "pipeline.backoff_base_ms", c.pipeline.backoff_base_ms, 1));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "pipeline.embed_batch_size", c.pipeline.embed_batch_size, 1));
  INGEST_RETURN_IF_ERROR(
      AtLeast(c, "pipeline.stopped_provider_wait_s", c.pipeline.stopped_provider_wait_s, 0));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "embed.query_cache_entries", c.embed.query_cache_entries, 1));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "parse.max_bytes", c.parse.max_bytes, 1));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "parse.max_pages", c.parse.max_pages, 1));
  INGEST_RETURN_IF_ERROR(
      AtLeast(c, "parse.max_compression_ratio", c.parse.max_compression_ratio, 0));
  INGEST_RETURN_IF_ERROR(OneOf(c, "parse.isolation", c.parse.isolation, {"subprocess", "none"}));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "parse.timeout_s", c.parse.timeout_s, 1));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "parse.cpu_limit_s", c.parse.cpu_limit_s, 0));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "parse.memory_limit_mb", c.parse.memory_limit_mb, 64));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "parse.max_output_bytes", c.parse.max_output_bytes, 1));
  INGEST_RETURN_IF_ERROR(
      AtLeast(c, "parse.auto_min_chars_per_page", c.parse.auto_min_chars_per_page, 0));
  INGEST_RETURN_IF_ERROR(
      AtLeast(c, "llamaparse.poll_deadline_s", c.parse.llamaparse_poll_deadline_s, 1));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "parse.ocr_dpi", c.parse.ocr_dpi, 50));
  if (c.parse.ocr_dpi > 1200) {
    return InvalidArgument("parse.ocr_dpi must be at most 1200", "config_invalid");
  }
  INGEST_RETURN_IF_ERROR(AtLeast(c, "parse.ocr_min_confidence", c.parse.ocr_min_confidence, 0));
  if (c.parse.ocr_min_confidence > 100) {
    return InvalidArgument("parse.ocr_min_confidence must be at most 100", "config_invalid");
  }
  INGEST_RETURN_IF_ERROR(AtLeast(c, "parse.ocr_threads", c.parse.ocr_threads, 1));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "parse.pdf_threads", c.parse.pdf_threads, 0));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "parse.ocr_page_timeout_s", c.parse.ocr_page_timeout_s, 1));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "parse.ocr_budget_s", c.parse.ocr_budget_s, 0));
  INGEST_RETURN_IF_ERROR(
      AtLeast(c, "parse.ocr_max_page_pixels", c.parse.ocr_max_page_pixels, 1'000'000));
  INGEST_RETURN_IF_ERROR(
      AtLeast(c, "parse.ocr_min_chars_per_page", c.parse.ocr_min_chars_per_page, 0));
  if (c.parse.ocr_languages.empty() ||
      c.parse.ocr_languages.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-") !=
          std::string::npos) {
    return InvalidArgument(
        "parse.ocr_languages must be Tesseract language names joined by '+', "
        "e.g. \"eng\" or \"eng+deu\"",
        "config_invalid");
  }
  INGEST_RETURN_IF_ERROR(AtLeast(c, "governor.openai_rpm", c.governor.openai_rpm, 0));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "governor.openai_tpm", c.governor.openai_tpm, 0));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "governor.llamaparse_rpm", c.governor.llamaparse_rpm, 0));
  INGEST_RETURN_IF_ERROR(
      AtLeast(c, "governor.rate_target_percent", c.governor.rate_target_percent, 1));
  if (c.governor.rate_target_percent > 100) {
    return InvalidArgument("governor.rate_target_percent must be at most 100", "config_invalid");
  }
  INGEST_RETURN_IF_ERROR(AtLeast(c, "governor.max_rate_wait_ms", c.governor.max_rate_wait_ms, 0));
  INGEST_RETURN_IF_ERROR(
      AtLeast(c, "governor.reservation_ttl_s", c.governor.reservation_ttl_s, 60));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "governor.breaker_window_s", c.governor.breaker_window_s, 1));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "governor.breaker_min_calls", c.governor.breaker_min_calls, 1));
  INGEST_RETURN_IF_ERROR(
      AtLeast(c, "governor.breaker_failure_percent", c.governor.breaker_failure_percent, 1));
  if (c.governor.breaker_failure_percent > 100) {
    return InvalidArgument("governor.breaker_failure_percent must be at most 100",
                           "config_invalid");
  }
  INGEST_RETURN_IF_ERROR(AtLeast(c, "governor.breaker_open_s", c.governor.breaker_open_s, 1));
  INGEST_RETURN_IF_ERROR(
      AtLeast(c, "governor.stop_probe_after_s", c.governor.stop_probe_after_s, 0));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "chunk.max_tokens", c.chunk.max_tokens, 16));
  INGEST_RETURN_IF_ERROR(AtLeast(c, "chunk.overlap_tokens", c.chunk.overlap_tokens, 0));
  if (c.chunk.overlap_tokens >= c.chunk.max_tokens) {
    return InvalidArgument(
        fmt::format("{}: chunk.overlap_tokens ({}) must be smaller than "
                    "chunk.max_tokens ({})",
                    c.origins.count("chunk.overlap_tokens") ? c.origins.at("chunk.overlap_tokens")
                                                            : "default",
                    c.chunk.overlap_tokens, c.chunk.max_tokens),
        "config_invalid");
  }
  if (c.store.url.rfind("sqlite:", 0) != 0 && c.store.url.rfind("postgresql://", 0) != 0 &&
      c.store.url.rfind("postgres://", 0) != 0) {
    return InvalidArgument(
        fmt::format("{}: store.url must be sqlite:PATH or postgresql://..., got \"{}\"",
                    c.origins.count("store.url") ? c.origins.at("store.url") : "default",
                    c.store.url),
        "config_invalid");
  }
  INGEST_RETURN_IF_ERROR(ValidateBlobs(c));
  // The production profile never runs against emulators (DESIGN §4).
  INGEST_RETURN_IF_ERROR(ValidateMock(c));
  INGEST_RETURN_IF_ERROR(OneOf(c, "parse.fallback", c.parse.fallback, {"none", "local"}));
  if (c.parse.fallback == "local") {
    INGEST_RETURN_IF_ERROR(
        AtLeast(c, "parse.fallback_after_attempts", c.parse.fallback_after_attempts, 1));
    if (c.parse.fallback_after_attempts > c.pipeline.max_attempts) {
      return InvalidArgument(
          fmt::format("{}: parse.fallback_after_attempts ({}) must not exceed "
                      "pipeline.max_attempts ({}), or jobs go dead before falling back",
                      OriginOf(c, "parse.fallback_after_attempts"), c.parse.fallback_after_attempts,
                      c.pipeline.max_attempts),
          "config_invalid");
    }
  }
  INGEST_RETURN_IF_ERROR(ValidateEmbedFallback(c));
  INGEST_RETURN_IF_ERROR(ValidateLlamaParseWebhook(c));
  INGEST_RETURN_IF_ERROR(ValidateApi(c));
  return Status::Ok();
}

std::map<std::string, std::string> ProcessEnv() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

}  // namespace

const std::vector<std::pair<std::string, std::string>>& EnvBindings() {
  static const std::vector<std::pair<std::string, std::string>> bindings = [] {
    std::vector<std::pair<std::string, std::string>> out;
    for (const Key& k : Keys()) {
      if (!k.env.empty()) out.emplace_back(k.env, k.key);
    }
    out.emplace_back("INGESTD_CONFIG", "(--config)");
    out.emplace_back("INGESTD_PROFILE", "(--profile)");
    return out;
  }();
  return bindings;
}

std::vector<std::string> DefaultSearchPaths(const std::map<std::string, std::string>& env) {
  std::vector<std::string> paths = {"./ingestd.toml"};
  auto get = [&](const char* name) {
    auto it = env.find(name);
    return it == env.end() ? std::string() : it->second;
  };
  std::string xdg = get("XDG_CONFIG_HOME");
  if (xdg.empty() && !get("HOME").empty()) xdg = get("HOME") + "/.config";
  if (!xdg.empty()) paths.push_back(xdg + "/ingestd/ingestd.toml");
  paths.push_back("/etc/ingestd/ingestd.toml");
  return paths;
}

Result<Config> LoadConfig(const LoadOptions& options) {
  std::map<std::string, std::string> env =
      options.use_process_env && options.env.empty() ? ProcessEnv() : options.env;
  Config config;
  for (const Key& k : Keys()) config.origins[k.key] = "default";

  config.profile = options.profile;
  if (config.profile.empty() && env.count("INGESTD_PROFILE"))
    config.profile = env["INGESTD_PROFILE"];
  if (config.profile.empty()) config.profile = "development";

  std::string file = options.file;
  config.file_origin = "--config";
  if (file.empty() && env.count("INGESTD_CONFIG")) {
    file = env["INGESTD_CONFIG"];
    config.file_origin = "env INGESTD_CONFIG";
  }
  if (file.empty()) {
    const std::vector<std::string> paths =
        options.search_paths ? *options.search_paths : DefaultSearchPaths(env);
    for (const std::string& candidate : paths) {
      std::error_code ec;
      if (std::filesystem::is_regular_file(candidate, ec)) {
        file = candidate;
        config.file_origin = "found in the search path";
        break;
      }
    }
  }
  if (file.empty()) config.file_origin.clear();
  config.file = file;
  if (!file.empty()) {
    toml::table root;
    try {
      root = toml::parse_file(file);
    } catch (const toml::parse_error& e) {
      const auto& b = e.source().begin;
      return InvalidArgument(fmt::format("{}:{}:{}: {}", file, b.line, b.column, e.description()),
                             "config_invalid");
    } catch (const std::exception& e) {
      return InvalidArgument(fmt::format("{}: {}", file, e.what()), "config_invalid");
    }
    INGEST_RETURN_IF_ERROR(ApplyTable(root, file, config));
    if (const toml::table* profiles = root["profile"].as_table()) {
      if (const toml::table* p = (*profiles)[config.profile].as_table()) {
        INGEST_RETURN_IF_ERROR(ApplyTable(*p, file, config));
      }
    }
  }
  INGEST_RETURN_IF_ERROR(ApplyEnv(env, config));
  if (config.store.url.empty()) {
    config.store.url = "sqlite:" + config.store.data_dir + "/ingestd.db";
    config.origins["store.url"] = "default (from store.data_dir)";
  }
  // Blobs follow the store: a PostgreSQL deployment keeps them in its database, so machines
  // share nothing but the database; the embedded one in its data directory (DefaultBlobsUrl).
  if (config.blobs.url.empty()) {
    std::string origin;
    config.blobs.url = DefaultBlobsUrl(config, &origin);
    config.origins["blobs.url"] = origin;
  }
  ApplyMode(config);
  INGEST_RETURN_IF_ERROR(Validate(config));
  return config;
}

std::string Redacted(const Config& config) {
  Config copy = config;
  std::string out = fmt::format("# profile: {}\n", config.profile);
  out += config.file.empty()
             ? std::string(
                   "# configuration file: none (search path: --config, INGESTD_CONFIG, "
                   "./ingestd.toml, $XDG_CONFIG_HOME/ingestd/ingestd.toml, "
                   "/etc/ingestd/ingestd.toml)\n")
             : fmt::format("# configuration file: {} ({})\n", config.file, config.file_origin);
  // One table per section, in the order sections first appear in the key list (TOML refuses a
  // table defined twice), the top-level keys first.
  std::vector<std::string> sections;
  for (const Key& k : Keys()) {
    size_t dot = k.key.find('.');
    std::string sec = dot == std::string::npos ? "" : k.key.substr(0, dot);
    if (std::find(sections.begin(), sections.end(), sec) == sections.end()) {
      sections.push_back(sec);
    }
  }
  std::stable_partition(sections.begin(), sections.end(),
                        [](const std::string& s) { return s.empty(); });
  for (const std::string& section : sections) {
    if (!section.empty()) out += fmt::format("\n[{}]\n", section);
    for (const Key& k : Keys()) {
      size_t dot = k.key.find('.');
      std::string sec = dot == std::string::npos ? "" : k.key.substr(0, dot);
      std::string name = dot == std::string::npos ? k.key : k.key.substr(dot + 1);
      if (sec != section) continue;
      std::string value;
      bool commented = false;
      if (k.kind == Kind::kInt) {
        value = std::to_string(k.num.get(copy));
      } else if (k.kind == Kind::kBool) {
        value = k.num.get(copy) != 0 ? "true" : "false";
      } else {
        const std::string& s = *k.str(copy);
        if (k.kind == Kind::kSecret && !s.empty()) {
          value = "\"<redacted>\"";
          commented = true;
        } else {
          std::string esc;
          for (char ch : s) {
            if (ch == '"' || ch == '\\') esc += '\\';
            esc += ch;
          }
          value = "\"" + esc + "\"";
        }
      }
      auto it = config.origins.find(k.key);
      out += fmt::format("{}{} = {}  # {}\n", commented ? "# " : "", name, value,
                         it == config.origins.end() ? "default" : it->second);
    }
  }
  return out;
}

std::string SqlitePath(const Config& config) {
  const std::string& url = config.store.url;
  if (url.rfind("sqlite:", 0) != 0) return "";
  return url.substr(7);
}

std::string BlobsFolder(const Config& config) {
  const std::string& url = config.blobs.url;
  if (url.rfind("file://", 0) != 0) return "";
  return url.substr(7);
}

std::string DefaultBlobsUrl(const Config& config, std::string* origin) {
  const std::string folder = config.store.data_dir + "/blobs";
  if (!SqlitePath(config).empty()) {
    *origin = "default (from store.data_dir)";
    return "file://" + folder;
  }
  std::error_code ec;
  if (std::filesystem::is_directory(folder, ec)) {
    *origin =
        "default (store.data_dir/blobs exists: a deployment from before database blobs keeps "
        "its folder until blobs.url is set)";
    return "file://" + folder;
  }
  *origin = "default (from store.url)";
  return config.store.url;
}

std::string BlobCacheDir(const Config& config) {
  if (!config.blobs.cache_dir.empty()) return config.blobs.cache_dir;
  return config.store.data_dir + "/tmp/blob-cache";
}

namespace {

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<int64_t> ParseUsdNanos(std::string_view text) {
  const std::string_view s = TrimBlanks(text);
  auto bad = [&](const char* why) -> Status {
    return InvalidArgument("bad dollar amount \"" + std::string(text) + "\": " + why, "bad_price");
  };
  if (s.empty()) return bad("empty");
  int64_t whole = 0;
  int64_t frac = 0;
  int frac_digits = 0;
  bool seen_dot = false;
  bool any_digit = false;
  for (char ch : s) {
    if (ch == '.') {
      if (seen_dot) return bad("two decimal points");
      seen_dot = true;
      continue;
    }
    if (ch < '0' || ch > '9') return bad("not a non-negative decimal number");
    any_digit = true;
    const int d = ch - '0';
    if (seen_dot) {
      if (++frac_digits > 9) return bad("more than 9 decimal places (nano-dollars)");
      frac = frac * 10 + d;
    } else {
      if (whole > (std::numeric_limits<int64_t>::max() / 1000000000 - d) / 10) {
        return bad("too large");
      }
      whole = whole * 10 + d;
    }
  }
  if (!any_digit) return bad("no digits");
  for (int i = frac_digits; i < 9; ++i) frac *= 10;
  return whole * 1000000000 + frac;
}

Result<int64_t> ParseUsdPerUnitNanos(std::string_view text, int64_t units) {
  INGEST_ASSIGN_OR_RETURN(int64_t nanos, ParseUsdNanos(text));
  if (units <= 0 || nanos % units != 0) {
    return InvalidArgument("price \"" + std::string(TrimBlanks(text)) + "\" per " +
                               std::to_string(units) +
                               " units is not a whole number of nano-dollars per unit, so "
                               "costs could not be exact",
                           "bad_price");
  }
  return nanos / units;
}

Result<std::vector<std::pair<std::string, int64_t>>> ParseModeCreditsList(std::string_view text) {
  std::vector<std::pair<std::string, int64_t>> out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    const std::string_view entry = text.substr(pos, comma - pos);
    pos = comma + 1;
    const size_t eq = entry.find('=');
    const std::string_view mode = entry.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : entry.substr(eq + 1);
    bool digits = !value.empty() && value.size() <= 9;
    for (char c : value) digits = digits && c >= '0' && c <= '9';
    if (mode.empty() || !digits) {
      return InvalidArgument("bad credits-per-page entry \"" + std::string(entry) +
                                 "\": expected mode=credits, e.g. fast=1,default=3",
                             "bad_price");
    }
    out.emplace_back(mode == "default" ? std::string() : std::string(mode),
                     std::stoll(std::string(value)));
  }
  return out;
}

Result<std::vector<std::pair<std::string, int64_t>>> ParseModelUsdList(std::string_view text) {
  std::vector<std::pair<std::string, int64_t>> out;
  std::string_view rest = text;
  while (!TrimBlanks(rest).empty()) {
    const size_t comma = rest.find(',');
    const std::string_view entry = TrimBlanks(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const size_t eq = entry.find('=');
    const std::string_view model =
        TrimBlanks(entry.substr(0, eq == std::string_view::npos ? 0 : eq));
    if (eq == std::string_view::npos || model.empty()) {
      return InvalidArgument("entry \"" + std::string(entry) + "\" is not model=usd", "bad_price");
    }
    Result<int64_t> per_token = ParseUsdPerUnitNanos(entry.substr(eq + 1), 1000000);
    if (!per_token.ok()) return per_token.status().WithContext(model);
    out.emplace_back(std::string(model), *per_token);
  }
  return out;
}

}  // namespace ingest::config
