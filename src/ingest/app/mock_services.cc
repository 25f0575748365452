#include "ingest/app/mock_services.h"

#include "ingest/common/ids.h"
#include "ingest/emulate/llamaparse/llamaparse_emulator.h"
#include "ingest/emulate/openai/openai_emulator.h"
#include "ingest/obs/log.h"
#include "ingest/text/tokenizer.h"

namespace ingest::app {

MockServices::~MockServices() {
  if (openai_emulator_) openai_emulator_->Stop();
  if (llamaparse_emulator_) llamaparse_emulator_->Stop();
}

Result<std::unique_ptr<MockServices>> MockServices::Start(const config::Config& config) {
  std::unique_ptr<MockServices> mock(new MockServices());
  const std::string key = "mock-" + UuidV4();
  const std::string configured_key = "mock";
  mock->openai_ = config.openai;
  mock->llamaparse_ = config.llamaparse;
  if (config.embed.provider == "openai") {
    if (config.openai.base_url.empty()) {
      emulate::OpenAiEmulatorOptions options;
      options.api_keys = {key};
      INGEST_ASSIGN_OR_RETURN(const text::Tokenizer* counter,
                              text::Tokenizer::Get(text::Encoding::kCl100kBase));
      mock->openai_emulator_ = std::make_unique<emulate::OpenAiEmulator>(options, counter);
      INGEST_RETURN_IF_ERROR(mock->openai_emulator_->Start("127.0.0.1", 0));
      mock->openai_.base_url =
          "http://127.0.0.1:" + std::to_string(mock->openai_emulator_->port()) + "/v1";
      mock->openai_.api_key = key;
    } else if (mock->openai_.api_key.empty()) {
      mock->openai_.api_key = configured_key;
    }
  }
  if (config.parse.parser != "local") {
    if (config.llamaparse.base_url.empty()) {
      emulate::LlamaParseEmulatorOptions options;
      options.api_keys = {key};
      // Quicker than the real service (and the emulator's defaults), still asynchronous: jobs
      // stay PENDING for a moment, so the waiting/polling path runs.
      options.latency_base_ms = 300;
      options.latency_per_page_ms = 20;
      mock->llamaparse_emulator_ = std::make_unique<emulate::LlamaParseEmulator>(options);
      INGEST_RETURN_IF_ERROR(mock->llamaparse_emulator_->Start("127.0.0.1", 0));
      mock->llamaparse_.base_url =
          "http://127.0.0.1:" + std::to_string(mock->llamaparse_emulator_->port());
      mock->llamaparse_.api_key = key;
    } else if (mock->llamaparse_.api_key.empty()) {
      mock->llamaparse_.api_key = configured_key;
    }
  }
  obs::LogInfo("mode mock: emulated services",
               {{"openai", mock->openai_.base_url}, {"llamaparse", mock->llamaparse_.base_url}});
  return mock;
}

}  // namespace ingest::app
