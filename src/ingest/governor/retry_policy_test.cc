#include "ingest/governor/retry_policy.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>

namespace ingest::governor {
namespace {

using std::chrono::milliseconds;

TEST(ClassifyTest, TransientCodes) {
  EXPECT_EQ(Classify(Unavailable("503")), ErrorClass::kTransient);
  EXPECT_EQ(Classify(Unavailable("429", "rate_limited")), ErrorClass::kTransient);
  EXPECT_EQ(Classify(DeadlineExceeded("timeout")), ErrorClass::kTransient);
  EXPECT_EQ(Classify(Cancelled("shutdown")), ErrorClass::kTransient);
  EXPECT_EQ(Classify(FailedPrecondition("lost", std::string(kLeaseLostReason))),
            ErrorClass::kTransient);
}

TEST(ClassifyTest, ResourceExhaustedIsThrottledUnlessInputLimitOrQuota) {
  EXPECT_EQ(Classify(ResourceExhausted("budget", "budget_exhausted")), ErrorClass::kThrottled);
  EXPECT_EQ(Classify(ResourceExhausted("breaker", "circuit_open")), ErrorClass::kThrottled);
  EXPECT_EQ(Classify(ResourceExhausted("no reason")), ErrorClass::kThrottled);
  for (const char* r : {"file_too_large", "too_many_pages", "docx_too_large",
                        "uncompressed_too_large", "document_too_large"}) {
    EXPECT_EQ(Classify(ResourceExhausted("limit", r)), ErrorClass::kPermanent) << r;
  }
  EXPECT_EQ(Classify(ResourceExhausted("402", "insufficient_quota")), ErrorClass::kConfiguration);
  EXPECT_EQ(Classify(ResourceExhausted("quota", "quota_exhausted")), ErrorClass::kConfiguration);
}

TEST(ClassifyTest, ConfigurationAndPermanent) {
  EXPECT_EQ(Classify(Unauthenticated("401")), ErrorClass::kConfiguration);
  EXPECT_EQ(Classify(InvalidArgument("corrupt", "pdf_corrupt")), ErrorClass::kPermanent);
  EXPECT_EQ(Classify(NotFound("blob")), ErrorClass::kPermanent);
  EXPECT_EQ(Classify(AlreadyExists("dup")), ErrorClass::kPermanent);
  EXPECT_EQ(Classify(DataLoss("hash mismatch")), ErrorClass::kPermanent);
  EXPECT_EQ(Classify(FailedPrecondition("not indexed")), ErrorClass::kPermanent);
  EXPECT_EQ(Classify(Internal("bug")), ErrorClass::kPermanent);
  EXPECT_EQ(Classify(Status::Ok()), ErrorClass::kPermanent);
}

TEST(ClassifyTest, WrongProviderSettingsAreConfigurationWhateverTheCode) {
  // A refused connection or a failed TLS handshake is not the document's fault, and retrying
  // the document cannot fix a wrong base URL: the provider is stopped with the cause.
  EXPECT_EQ(Classify(Unavailable("refused", "connection_failed")), ErrorClass::kConfiguration);
  EXPECT_EQ(Classify(Unavailable("tls", "tls_error")), ErrorClass::kConfiguration);
  EXPECT_EQ(Classify(FailedPrecondition("404", "endpoint_not_found")), ErrorClass::kConfiguration);
  EXPECT_EQ(Classify(InvalidArgument("404", "model_not_found")), ErrorClass::kConfiguration);
  EXPECT_EQ(Classify(FailedPrecondition("501", "embeddings_not_supported")),
            ErrorClass::kConfiguration);
  // A reset connection or a timeout may clear by itself: still transient.
  EXPECT_EQ(Classify(Unavailable("reset", "connection_reset")), ErrorClass::kTransient);
  EXPECT_EQ(Classify(DeadlineExceeded("slow", "timeout")), ErrorClass::kTransient);
  EXPECT_TRUE(IsConfigurationReason("endpoint_not_found"));
  EXPECT_TRUE(IsConfigurationReason("invalid_api_key"));
  EXPECT_TRUE(IsConfigurationReason("insufficient_quota"));
  EXPECT_FALSE(IsConfigurationReason("pdf_corrupt"));
  EXPECT_FALSE(IsConfigurationReason("connection_reset"));
}

TEST(ClassifyTest, Names) {
  EXPECT_EQ(ErrorClassName(ErrorClass::kTransient), "transient");
  EXPECT_EQ(ErrorClassName(ErrorClass::kThrottled), "throttled");
  EXPECT_EQ(ErrorClassName(ErrorClass::kPermanent), "permanent");
  EXPECT_EQ(ErrorClassName(ErrorClass::kConfiguration), "configuration");
}

TEST(BackoffDelayTest, BoundsAreExactForExtremeRandomValues) {
  RetryPolicy p;
  p.base = milliseconds(1000);
  p.cap = milliseconds(300000);
  EXPECT_EQ(BackoffDelay(p, 0, 0), milliseconds(0));
  EXPECT_EQ(BackoffDelay(p, 0, 1000), milliseconds(1000));  // upper bound is inclusive
  EXPECT_EQ(BackoffDelay(p, 0, 1001), milliseconds(0));     // wraps: uniform in [0, 1000]
  EXPECT_EQ(BackoffDelay(p, 3, 8000), milliseconds(8000));  // base * 2^3
  EXPECT_EQ(BackoffDelay(p, 3, 8001), milliseconds(0));
  // 2^9 s = 512 s > cap: capped at 300 s.
  EXPECT_EQ(BackoffDelay(p, 9, 300000), milliseconds(300000));
  EXPECT_EQ(BackoffDelay(p, 9, 300001), milliseconds(0));
}

TEST(BackoffDelayTest, HugeAttemptsAndCapsDoNotOverflow) {
  RetryPolicy p;
  p.base = milliseconds(1000);
  p.cap = milliseconds(std::numeric_limits<int64_t>::max());
  const Duration d = BackoffDelay(p, 1'000'000, std::numeric_limits<uint64_t>::max());
  EXPECT_GE(d.count(), 0);
  EXPECT_EQ(BackoffDelay(p, -5, 1000), milliseconds(1000));  // negative attempt = 0
  p.base = milliseconds(0);
  EXPECT_EQ(BackoffDelay(p, std::numeric_limits<int>::max(), 12345), milliseconds(0));
}

TEST(BackoffDelayTest, FullJitterSpreadsOverTheWholeRange) {
  RetryPolicy p;
  p.base = milliseconds(100);
  p.cap = milliseconds(10000);
  std::mt19937_64 rng(42);
  int64_t lo = std::numeric_limits<int64_t>::max(), hi = 0;
  double sum = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const int64_t d = BackoffDelay(p, 4, rng()).count();  // range [0, 1600]
    ASSERT_GE(d, 0);
    ASSERT_LE(d, 1600);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
    sum += static_cast<double>(d);
  }
  EXPECT_LT(lo, 20);
  EXPECT_GT(hi, 1580);
  EXPECT_NEAR(sum / n, 800.0, 25.0);  // mean of uniform [0, 1600]
}

}  // namespace
}  // namespace ingest::governor
