#include "ingest/emulate/common/billing_log.h"

#include <cerrno>
#include <cstring>

#include "ingest/emulate/common/json_text.h"

namespace ingest::emulate {

BillingLog::~BillingLog() {
  if (file_ != nullptr) std::fclose(file_);
}

Status BillingLog::Open(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (path.empty()) return Status::Ok();
  std::FILE* f = std::fopen(path.c_str(), "ae");
  if (f == nullptr) {
    return Unavailable("cannot open billing log " + path + ": " + std::strerror(errno));
  }
  if (file_ != nullptr) std::fclose(file_);
  file_ = f;
  return Status::Ok();
}

void BillingLog::Append(const nlohmann::json& line) {
  std::lock_guard<std::mutex> lock(mu_);
  if (file_ == nullptr) return;
  const std::string text = JsonText(line) + "\n";
  std::fwrite(text.data(), 1, text.size(), file_);
  std::fflush(file_);
}

}  // namespace ingest::emulate
