// Shared fixture for the OpenAI emulator tests: an in-process emulator on port 0 with a fake
// clock and a word-counting TokenCounter, plus an httplib client.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ingest/emulate/common/base64.h"
#include "ingest/emulate/openai/openai_emulator.h"

namespace ingest::emulate::openai_test {

using nlohmann::json;

// Counts whitespace-separated words: predictable token counts for the tests.
class WordCounter : public text::TokenCounter {
 public:
  size_t Count(std::string_view text) const override {
    size_t n = 0;
    bool in_word = false;
    for (char c : text) {
      const bool space = c == ' ' || c == '\n' || c == '\t';
      if (!space && !in_word) ++n;
      in_word = !space;
    }
    return n;
  }
};

class OpenAiEmulatorTest : public ::testing::Test {
 protected:
  void StartWith(OpenAiEmulatorOptions options) {
    if (options.api_keys.empty()) options.api_keys = {"sk-test-key-1234"};
    if (options.clock == Clock::Real()) options.clock = &clock_;
    emulator_ = std::make_unique<OpenAiEmulator>(std::move(options), &counter_);
    ASSERT_TRUE(emulator_->Start("127.0.0.1", 0).ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", emulator_->port());
    client_->set_read_timeout(std::chrono::seconds(10));
  }

  httplib::Result Embed(const json& body, const std::string& key = "sk-test-key-1234") {
    httplib::Headers headers;
    if (!key.empty()) headers.emplace("Authorization", "Bearer " + key);
    return client_->Post("/v1/embeddings", headers, body.dump(), "application/json");
  }

  static json ErrorOf(const httplib::Result& r) { return json::parse(r->body).at("error"); }

  static std::vector<float> Floats(const json& embedding) {
    if (embedding.is_string()) {
      const auto bytes = Base64Decode(embedding.get<std::string>());
      EXPECT_TRUE(bytes.has_value());
      std::vector<float> v(bytes->size() / 4);
      for (size_t i = 0; i < v.size(); ++i) {
        uint32_t bits = 0;
        for (int b = 0; b < 4; ++b) {
          bits |= static_cast<uint32_t>(static_cast<uint8_t>((*bytes)[i * 4 + b])) << (8 * b);
        }
        std::memcpy(&v[i], &bits, 4);
      }
      return v;
    }
    std::vector<float> v;
    for (const auto& x : embedding) v.push_back(static_cast<float>(x.get<double>()));
    return v;
  }

  static double Norm(const std::vector<float>& v) {
    double s = 0;
    for (float x : v) s += static_cast<double>(x) * x;
    return std::sqrt(s);
  }

  FakeClock clock_;
  WordCounter counter_;
  std::unique_ptr<OpenAiEmulator> emulator_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace ingest::emulate::openai_test
