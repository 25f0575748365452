// Dot product of float vectors, written so the compiler vectorises it. Thread-safe (pure).
#pragma once

#include <cstddef>

namespace ingest::search {

// sum(a[i] * b[i]) over n floats. Uses eight independent partial sums so the loop vectorises and
// pipelines (a single accumulator serialises on the add latency); the result can differ from a
// sequential sum in the last bits, never in ranking-relevant precision.
inline float Dot(const float* a, const float* b, size_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (size_t j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  }
  float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

}  // namespace ingest::search
