// Mode mock (DESIGN §4): both paid services are replaced by their emulators, so a whole
// `ingestd ingest` exercises the remote path without touching the network or spending money.
// When a service is selected and its base URL is not configured, an in-process emulator
// (emulate/) is started on 127.0.0.1 on an ephemeral port and lives as long as the App; a
// configured base URL (an `ingestd emulate` shared by a staging setup) is used instead
// (config.cc refuses the paid services' hosts in mode mock).
//
// The in-process emulators accept a key generated per process: a key from the environment is
// never sent to them. A configured emulator URL gets the configured key ("mock" when none). What
// they produce is labelled "mock:" (parser "mock:llamaparse", provider "mock:openai", vector space
// "mock:<model>"), so it can never be served to, or mixed with, a real run sharing the same store.
#pragma once

#include <memory>
#include <string>

#include "ingest/common/result.h"
#include "ingest/config/config.h"

namespace ingest::emulate {
class OpenAiEmulator;
class LlamaParseEmulator;
}  // namespace ingest::emulate

namespace ingest::app {

class MockServices {
 public:
  // Starts the emulators `config` needs (mode mock; see above). Fails when one cannot bind.
  static Result<std::unique_ptr<MockServices>> Start(const config::Config& config);
  ~MockServices();

  // Where the clients should go and with which key: the in-process emulator's, or the
  // configured URL and key (a key defaults to "mock" when none is configured).
  const config::ProviderConfig& openai() const { return openai_; }
  const config::ProviderConfig& llamaparse() const { return llamaparse_; }

 private:
  MockServices() = default;
  std::unique_ptr<emulate::OpenAiEmulator> openai_emulator_;
  std::unique_ptr<emulate::LlamaParseEmulator> llamaparse_emulator_;
  config::ProviderConfig openai_;
  config::ProviderConfig llamaparse_;
};

}  // namespace ingest::app
