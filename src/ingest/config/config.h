// Configuration (DESIGN §7): built-in defaults, then a TOML file, then the file's
// [profile.<name>] table, then environment variables. Every environment variable has an
// equivalent key; secrets may also come from files (`*_FILE`) and never leave this module
// unredacted (see Redacted()).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/common/result.h"

namespace ingest::config {

struct StoreConfig {
  std::string url;  // "sqlite:PATH" or "postgresql://..."; default sqlite:<data_dir>/ingestd.db
  std::string data_dir = ".ingestd";  // blobs, the SQLite file, logs
};

// Where original uploads live (docs/operations/blobs.md).
struct BlobsConfig {
  // "file:///PATH" (a folder), "postgresql://..." (chunked rows in that database, normally the
  // store's own) or "s3://BUCKET/PREFIX" (S3-compatible object storage). Default: the folder
  // <data_dir>/blobs on SQLite, the store's database on PostgreSQL.
  std::string url;
  std::string s3_endpoint;  // "http(s)://host[:port]"; "" = AWS (https://s3.REGION.amazonaws.com)
  std::string s3_region = "us-east-1";
  std::string s3_access_key_id;      // secret: AWS_ACCESS_KEY_ID or AWS_ACCESS_KEY_ID_FILE
  std::string s3_secret_access_key;  // secret: AWS_SECRET_ACCESS_KEY or ..._FILE
  std::string s3_session_token;      // secret: AWS_SESSION_TOKEN or ..._FILE; "" = none
  // The local copies remote blobs are read from (parsers read files): "" = <data_dir>/tmp/
  // blob-cache. Bounded by cache_max_mb, except blobs used in the last cache_grace_s seconds.
  std::string cache_dir;
  int64_t cache_max_mb = 1024;
  int cache_grace_s = 600;
};

struct PipelineConfig {
  int workers = 0;  // 0 = one per core
  int lease_ttl_s = 30;
  int max_attempts = 5;
  int backoff_base_ms = 1000;
  int backoff_cap_ms = 300000;
  int embed_batch_size = 64;
  std::string tenant = "default";
  // Foreground `ingestd ingest`: how long it keeps waiting once every unfinished document waits
  // on a stopped provider (wrong URL, key or model; unreachable server) before it prints the
  // cause and exits 75. A provider that recovers within it (a probe call succeeds) resumes.
  int stopped_provider_wait_s = 10;
};

struct ParseConfig {
  std::string parser = "local";  // local | llamaparse | auto
  int64_t max_bytes = 256ll << 20;
  int max_pages = 5000;
  int64_t max_uncompressed_bytes = 512ll << 20;
  // DOCX: an entry may inflate to at most this many times its compressed size.
  int64_t max_compression_ratio = 100;
  // Containment of untrusted files (parse/contained/contained_parser.h): "subprocess" parses
  // each document locally in its own supervised process; "none" parses in the worker's address
  // space (a crash there ends the whole process; for debugging only).
  std::string isolation = "subprocess";
  int timeout_s = 120;                     // wall clock per document, then SIGKILL
  int cpu_limit_s = 0;                     // RLIMIT_CPU; 0: same as timeout_s
  int64_t memory_limit_mb = 2048;          // RLIMIT_AS of the parse process
  int64_t max_output_bytes = 256ll << 20;  // text one parse may produce
  // `auto` routing: a PDF averaging fewer non-space characters per page goes to LlamaParse.
  int auto_min_chars_per_page = 100;
  // LlamaParse upload option parse_mode ("" = the server's default, parse_page_with_llm).
  std::string llamaparse_mode;
  // How long one document may wait for LlamaParse, from its first upload.
  int llamaparse_poll_deadline_s = 1800;
  // LlamaParse webhook (parse/llamaparse/webhook.h): public base URL of `ingestd serve` as
  // LlamaParse can reach it, and the server secret (>= 16 bytes) that signs per-job URLs.
  std::string llamaparse_webhook_url;
  std::string llamaparse_webhook_secret;  // secret
  // "none" | "local": parse with the local parser when LlamaParse is down or over budget
  // (parse/fallback_parser.h). Mode hybrid presets "local".
  std::string fallback = "none";
  // Transient LlamaParse failures fall back on this attempt of the parse stage.
  int fallback_after_attempts = 3;
  // Local OCR (parse/ocr/ocr.h): scanned PDF pages and PNG/JPEG/TIFF images read with
  // Tesseract. Ignored (with a doctor warning) by a build without OCR.
  bool ocr = true;
  std::string ocr_languages = "eng";  // Tesseract packs joined by '+', e.g. "eng+deu"
  int ocr_dpi = 300;
  int ocr_min_confidence = 60;  // mean word confidence 0-100; below: low-confidence page
  int ocr_threads = 1;          // OCR threads per document being parsed
  int pdf_threads = 0;          // text extraction threads per PDF (0 = one per core, up to 8)
  int ocr_page_timeout_s = 60;  // one page's recognition; past it the page fails alone
  int ocr_budget_s = 1800;      // most extra time one document's OCR may add to timeout_s
  int64_t ocr_max_page_pixels = 40'000'000;  // largest rendered page / decoded image
  int ocr_min_chars_per_page = 20;           // a PDF page with fewer text-layer characters is OCR'd
  std::string ocr_tessdata_dir;              // "" = Tesseract's default
};

struct ChunkConfig {
  int max_tokens = 512;
  int overlap_tokens = 0;
  std::string encoding = "cl100k_base";
};

struct EmbedConfig {
  std::string provider = "local";                // local | openai
  std::string model = "text-embedding-3-small";  // for openai; the local embedder is lexical-v1
  int dimensions = 0;                            // 0 = the model's native size (local: 384)
  // A second OpenAI-compatible endpoint serving the same model, used when the primary is
  // unavailable (embed/fallback_embedder.h). fallback_model and fallback_dimensions must equal
  // model and dimensions: vectors from both land in one space.
  std::string fallback_base_url;
  std::string fallback_model;
  int fallback_dimensions = 0;
  std::string fallback_api_key;  // secret; "" = openai.api_key
  // Search queries embedded once per (vector space, text): at most this many query vectors are
  // kept in the store, least recently used evicted first.
  int query_cache_entries = 10000;
};

struct ProviderConfig {
  std::string api_key;  // secret
  std::string base_url;
};

// Price overrides (docs/costs.md); empty = the built-in governor::PriceTable defaults.
struct PricingConfig {
  // "model=usd,model=usd": USD per 1,000,000 tokens, e.g. "text-embedding-3-small=0.02".
  std::string embedding_per_1m_usd;
  // USD per 1,000 LlamaParse credits, e.g. "1.25".
  std::string llamaparse_usd_per_1000_credits;
  // LlamaParse credits per page by parse mode, "mode=credits,...", e.g. "fast=1,default=3"
  // ("default" = the server's default mode). Overrides governor::PriceTable's defaults.
  std::string llamaparse_credits_per_page;
};

// The governor (docs/costs.md): shared rate limits, circuit breakers, reservations.
struct GovernorConfig {
  // Per-minute allowances of the API keys; 0 = learn them from x-ratelimit-limit-* headers
  // (OpenAI sends them; LlamaParse does not, so its uploads are unlimited unless set).
  int64_t openai_rpm = 0;
  int64_t openai_tpm = 0;
  int64_t llamaparse_rpm = 0;
  int rate_target_percent = 97;  // share of the allowance to aim for
  int max_rate_wait_ms = 20000;  // longer waits defer the job instead of holding a worker
  int reservation_ttl_s = 7200;  // an open reservation older than this is presumed orphaned
  int breaker_window_s = 30;
  int breaker_min_calls = 10;
  int breaker_failure_percent = 50;
  int breaker_open_s = 30;
  // After a quota/auth stop: 0 = wait for `ingestd providers resume`; else probe after this.
  int stop_probe_after_s = 0;
};

// `ingestd serve`'s listener (docs/configuration.md, docs/security.md).
struct ApiConfig {
  std::string listen = "127.0.0.1:8080";
  std::string admin_token;        // secret
  int backlog = 1024;             // listen queue (capped by net.core.somaxconn)
  int threads = 0;                // request threads; 0 = max(8, 4 x cores)
  int max_connections = 10000;    // open connections; more wait in the listen queue
  int keep_alive_timeout_s = 75;  // idle keep-alive; keep above a load balancer's idle timeout
  int keep_alive_max_requests = 10000;  // per connection, then Connection: close
  int header_timeout_s = 10;            // request line + headers must arrive within this
  int read_timeout_s = 30;              // longest silence while a body streams in
  int write_timeout_s = 30;             // a response must be taken within this
  int request_timeout_s = 600;          // a streamed body (upload) must be complete within this
  int max_header_bytes = 16384;         // request line + headers; larger: 431
  bool reuse_port = false;              // SO_REUSEPORT: share the port with other processes
  std::string tls_cert_file;            // PEM chain; with tls_key_file: HTTPS only
  std::string tls_key_file;             // PEM private key
  std::string tls_client_ca_file;       // PEM CA bundle: require client certificates
  bool allow_plaintext = false;         // production: allow plain HTTP off loopback (TLS proxy)
  // Request rate limits ("N/s" or "N/m"; "" = none), per serve process (docs/security.md):
  std::string rate_limit_per_key;     // each key without its own --rate-limit, and each token
  std::string rate_limit_per_tenant;  // all tenant-bound keys and tokens of one tenant together
};

// In-process alerting of `ingestd serve` (docs/operations/monitoring.md).
struct AlertConfig {
  std::string webhook_url;                      // secret (Slack URLs carry a token); "" = off
  std::string webhook_format = "alertmanager";  // alertmanager | slack
  int interval_s = 15;                          // how often the rules are evaluated
  int repeat_interval_s = 4 * 3600;             // re-send a still-firing alert after this
};

struct SearchConfig {
  // Full-text search language (PostgreSQL text search configuration; `ingestd migrate up`
  // applies it). SQLite always stems English (FTS5 porter): only "english" is accepted there.
  std::string fts_language = "english";
};

struct LogConfig {
  std::string level = "info";   // trace|debug|info|warn|error
  std::string format = "auto";  // json | text | auto (text on a terminal, else json)
};

struct Config {
  std::string profile = "development";
  std::string mode;  // "" | real | mock | hybrid (a preset over parser/embedder choices)
  StoreConfig store;
  BlobsConfig blobs;
  PipelineConfig pipeline;
  ParseConfig parse;
  ChunkConfig chunk;
  EmbedConfig embed;
  ProviderConfig openai;
  ProviderConfig llamaparse;
  PricingConfig pricing;
  GovernorConfig governor;
  ApiConfig api;
  AlertConfig alert;
  LogConfig log;
  SearchConfig search;

  // Where each effective key came from: "default", "FILE:LINE", "env NAME", "file NAME_FILE".
  std::map<std::string, std::string> origins;
  // The configuration file read ("" = none) and how it was found: "--config",
  // "env INGESTD_CONFIG" or "found in the search path".
  std::string file;
  std::string file_origin;
};

struct LoadOptions {
  // explicit --config; else INGESTD_CONFIG; else the first of `search_paths` that exists.
  std::string file;
  std::string profile;  // explicit --profile; else INGESTD_PROFILE; else "development"
  // Environment to read; tests inject their own. Empty map with use_process_env = true reads
  // the real environment.
  std::map<std::string, std::string> env;
  bool use_process_env = true;
  // Where a configuration file is looked for when neither --config nor INGESTD_CONFIG names
  // one, in order; the first that exists is read. nullopt = DefaultSearchPaths(env).
  std::optional<std::vector<std::string>> search_paths;
};

// The configuration search path (docs/configuration.md): ./ingestd.toml,
// $XDG_CONFIG_HOME/ingestd/ingestd.toml (XDG_CONFIG_HOME defaults to $HOME/.config),
// /etc/ingestd/ingestd.toml.
std::vector<std::string> DefaultSearchPaths(const std::map<std::string, std::string>& env);

// Loads and validates. Errors name the file and line ("config.toml:12: ...") or the variable.
Result<Config> LoadConfig(const LoadOptions& options);

// Effective configuration as TOML, each key annotated with its origin in a trailing comment. It
// is itself a valid configuration file (`config print > f.toml; --config f.toml` loads the same
// values), except that a set secret is printed commented out as "<redacted>": secrets never
// leave this module, so they have to come from the environment or a *_FILE again.
std::string Redacted(const Config& config);

// The SQLite path when store.url is "sqlite:PATH" (or empty: the default under data_dir).
// Empty for other schemes.
std::string SqlitePath(const Config& config);

// The folder of the blob store when blobs.url is "file://PATH" (PATH); empty for other stores.
std::string BlobsFolder(const Config& config);
// The blob cache folder: blobs.cache_dir, or <data_dir>/tmp/blob-cache when that is empty.
std::string BlobCacheDir(const Config& config);
// blobs.url when it is not set: the embedded store keeps blobs in <data_dir>/blobs; a PostgreSQL
// store in its own database — unless <data_dir>/blobs already exists (a deployment from before
// blobs lived in the database): then that folder, so that during a rolling upgrade the old
// processes (which read only the folder) and the new ones keep sharing it. Moving new uploads
// into the database is then an explicit blobs.url, once every process runs this release.
// Sets `*origin` to why.
std::string DefaultBlobsUrl(const Config& config, std::string* origin);

// "1.25" -> 1250000000 nano-dollars: a non-negative decimal with at most 9 fractional digits,
// parsed exactly (no floating point). kInvalidArgument reason "bad_price" otherwise.
Result<int64_t> ParseUsdNanos(std::string_view text);

// A price in USD per `units` units ("0.02" per 1,000,000 tokens) -> nano-dollars per unit (20).
// kInvalidArgument reason "bad_price" when it is not a whole number of nano-dollars per unit
// (then no cost could be exact).
Result<int64_t> ParseUsdPerUnitNanos(std::string_view text, int64_t units);

// "model=usd,model=usd" (USD per 1,000,000 tokens) -> (model, nano-dollars per token) pairs, in
// order; "" -> none. kInvalidArgument reason "bad_price" naming the bad entry (also when the
// price is not a whole number of nano-dollars per token: at most 3 decimals per 1M tokens).
Result<std::vector<std::pair<std::string, int64_t>>> ParseModelUsdList(std::string_view text);

// "fast=1,default=3" -> (parse mode, LlamaParse credits per page) pairs, in order; "" -> none.
// "default" stands for the server's default mode (returned as ""). kInvalidArgument reason
// "bad_price" naming the bad entry (credits: a whole number, at most 9 digits).
Result<std::vector<std::pair<std::string, int64_t>>> ParseModeCreditsList(std::string_view text);

// The environment variables LoadConfig reads, with the key each one sets.
const std::vector<std::pair<std::string, std::string>>& EnvBindings();

}  // namespace ingest::config
