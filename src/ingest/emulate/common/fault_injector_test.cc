#include "ingest/emulate/common/fault_injector.h"

#include <gtest/gtest.h>

#include "ingest/emulate/common/base64.h"

namespace ingest::emulate {
namespace {

TEST(FaultInjectorTest, ScheduleParsesAndFires) {
  FaultConfig config;
  ASSERT_TRUE(ParseEverySpec("drop:2", &config).ok());
  EXPECT_FALSE(ParseEverySpec("drop", &config).ok());
  EXPECT_FALSE(ParseEverySpec("bogus:2", &config).ok());
  EXPECT_FALSE(ParseEverySpec("500:0", &config).ok());
  FaultInjector injector(config);
  EXPECT_EQ(injector.Draw(), FaultKind::kNone);
  EXPECT_EQ(injector.Draw(), FaultKind::kDropConnection);
  EXPECT_EQ(injector.Draw({FaultKind::kServerError500}), FaultKind::kNone);
  EXPECT_EQ(injector.Draw({FaultKind::kDropConnection}), FaultKind::kDropConnection);
}

TEST(FaultInjectorTest, RatesAreSeededAndRoughlyHonoured) {
  FaultConfig config;
  config.seed = 99;
  config.rates = {{FaultKind::kServerError500, 0.25}};
  FaultInjector a(config), b(config);
  int hits = 0;
  for (int i = 0; i < 4000; ++i) {
    const FaultKind fa = a.Draw();
    EXPECT_EQ(fa, b.Draw());
    hits += fa == FaultKind::kServerError500;
  }
  EXPECT_NEAR(hits / 4000.0, 0.25, 0.03);
}

TEST(Base64Test, RoundTripsAndRejectsGarbage) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Decode("Zm9vYg==").value(), "foob");
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  EXPECT_EQ(Base64Decode(Base64Encode(bytes)).value(), bytes);
  EXPECT_FALSE(Base64Decode("Zm9").has_value());
  EXPECT_FALSE(Base64Decode("Zm!v").has_value());
}

}  // namespace
}  // namespace ingest::emulate
