// Result<T>: a value or a non-ok Status.
#pragma once

#include <optional>
#include <utility>

#include "ingest/common/check.h"
#include "ingest/common/status.h"

namespace ingest {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    INGEST_CHECK(!status_.ok());
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const& { return status_; }
  Status status() && { return std::move(status_); }

  const T& value() const& {
    INGEST_CHECK(ok());
    return *value_;
  }
  T& value() & {
    INGEST_CHECK(ok());
    return *value_;
  }
  T value() && {
    INGEST_CHECK(ok());
    return std::move(*value_);
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  T value_or(T fallback) const& { return ok() ? *value_ : std::move(fallback); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace ingest
