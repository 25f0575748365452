// The composition root: turns a Config into the owned object graph. Only app/ sees concrete
// backends (DESIGN §2); everything below it works through interfaces.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ingest/app/cli.h"
#include "ingest/common/clock.h"
#include "ingest/common/result.h"
#include "ingest/common/secret_cell.h"
#include "ingest/config/config.h"
#include "ingest/governor/governor.h"
#include "ingest/governor/pricing.h"
#include "ingest/parse/ocr/ocr.h"
#include "ingest/store/blob_store.h"
#include "ingest/store/store.h"

namespace ingest::parse {
class Parser;
}
namespace ingest::embed {
class Embedder;
}
namespace ingest::text {
class Tokenizer;
class TokenCounter;
}  // namespace ingest::text
namespace ingest::pipeline {
struct PipelineDeps;
}

namespace ingest::app {

class MockServices;

// Loads the configuration named by the global options and the environment, and starts logging.
Result<config::Config> LoadConfigFor(const GlobalOptions& global);

// The OCR settings of the local parser (parse.ocr*); enabled only when parse.ocr is on and
// the binary was built with OCR.
parse::OcrOptions OcrOptionsFor(const config::Config& config);

// Opens the configured Store. The embedded SQLite default is migrated to the latest schema on
// open so a first `ingestd ingest` needs no setup; a PostgreSQL store must be migrated
// explicitly (`ingestd migrate up`), since many processes share it.
Result<std::unique_ptr<store::Store>> OpenStore(const config::Config& config, Clock* clock,
                                                bool auto_migrate);

// Read commands (search, jobs, costs, budget show, providers, workers, migrate status) never
// create a store: for an embedded SQLite store whose file does not exist this returns
// kFailedPrecondition (reason "no_store") naming the path, where that path came from and how to
// point at another store. A PostgreSQL store is never created by opening it, so this is Ok.
Status RequireExistingStore(const config::Config& config);

// RequireExistingStore, then OpenStore (an existing embedded store is brought to the current
// schema as OpenStore does).
Result<std::unique_ptr<store::Store>> OpenExistingStore(const config::Config& config, Clock* clock);

// Whether the schema at `version` has the full-text index (the migration named "fts").
bool FullTextIndexed(const store::Store& store, int version);

// The configured BlobStore (blobs.url: a folder, the PostgreSQL database, or an S3 bucket;
// docs/operations/blobs.md). Does not contact a remote store: `ingestd doctor` checks that.
// kInvalidArgument for a blobs.url of no known kind.
Result<std::unique_ptr<store::BlobStore>> OpenBlobStore(const config::Config& config);

// Everything the pipeline needs, owned. Not copyable; lives for the command's duration.
class App {
 public:
  static Result<std::unique_ptr<App>> Open(const config::Config& config);
  ~App();

  const config::Config& config() const { return config_; }
  store::Store& store() { return *store_; }
  store::BlobStore& blobs() { return *blobs_; }
  const parse::Parser& parser() const { return *parser_; }
  const embed::Embedder& embedder() const { return *embedder_; }
  const text::Tokenizer& tokenizer() const { return *tokenizer_; }
  Clock* clock() const { return clock_; }
  governor::Governor& governor() { return *governor_; }
  // Non-owning view for the pipeline; valid while this App lives.
  pipeline::PipelineDeps Deps() const;

  // Secret rotation without a restart (SIGHUP in `serve` and `worker`): takes the provider API
  // keys of `fresh` (the configuration loaded again, so *_FILE files are read again) into the
  // running clients; the next request uses them. A key that became empty keeps its previous
  // value (listed in `kept`). A provider stopped for refused credentials (invalid_api_key,
  // unauthenticated, auth_failed, permission_denied) whose key changed is resumed, so its
  // deferred jobs run again. Secrets are named, never shown.
  struct SecretReload {
    std::vector<std::string> changed;
    std::vector<std::string> kept;  // empty or missing now: the previous value stays in use
  };
  Result<SecretReload> ReloadSecrets(const config::Config& fresh);

 private:
  App() = default;
  config::Config config_;
  std::unique_ptr<MockServices> mock_;  // mode mock: in-process emulators (outlive the clients)
  Clock* clock_ = Clock::Real();
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::BlobStore> blobs_;
  governor::PriceTable prices_;  // defaults plus config [pricing] overrides
  // Declared after store_ (it uses the store) and before the parser and embedder that hold its
  // gates, so it outlives them.
  std::unique_ptr<governor::Governor> governor_;
  std::unique_ptr<parse::Parser> parser_;
  std::unique_ptr<embed::Embedder> embedder_;
  // The provider keys the clients read per request (nullptr: provider not configured).
  std::shared_ptr<SecretCell> openai_key_;
  std::shared_ptr<SecretCell> openai_fallback_key_;
  std::shared_ptr<SecretCell> llamaparse_key_;
  const text::Tokenizer* tokenizer_ = nullptr;
  const text::TokenCounter* embed_tokens_ = nullptr;  // the embedder's exact token counter
};

// The SIGHUP reload of `serve` and `worker`: loads the configuration again as at start (so
// *_FILE secrets are read again) and hands it to App::ReloadSecrets. Logs what changed by name
// (never a value), or why the previous values stay (a configuration that no longer loads, an
// emptied secret file). Settings other than secrets need a restart.
void ReloadSecretsFromConfig(const GlobalOptions& global, App& app);

}  // namespace ingest::app
