// SecretCell: a secret that can be replaced while clients use it, for rotation without a
// restart (SIGHUP re-reads the *_FILE secrets, docs/security.md). A client reads the value once
// per request, so a request is sent whole with either the old or the new secret.
//
// Thread-safe.
#pragma once

#include <mutex>
#include <string>
#include <utility>

namespace ingest {

class SecretCell {
 public:
  explicit SecretCell(std::string value = {}) : value_(std::move(value)) {}
  SecretCell(const SecretCell&) = delete;
  SecretCell& operator=(const SecretCell&) = delete;

  std::string Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return value_;
  }
  // Returns true when the value changed.
  bool Set(std::string value) {
    std::lock_guard<std::mutex> lock(mu_);
    if (value == value_) return false;
    value_ = std::move(value);
    return true;
  }

 private:
  mutable std::mutex mu_;
  std::string value_;
};

}  // namespace ingest
