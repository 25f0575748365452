// Invariant checks. Bugs are not errors: these abort with a message. Never use them on input
// from users, providers or the database; return a Status instead.
#pragma once

namespace ingest::internal {
[[noreturn]] void CheckFailed(const char* expr, const char* file, int line);
}  // namespace ingest::internal

#define INGEST_CHECK(cond) \
  ((cond) ? (void)0 : ::ingest::internal::CheckFailed(#cond, __FILE__, __LINE__))

#ifdef NDEBUG
#define INGEST_DCHECK(cond) ((void)0)
#else
#define INGEST_DCHECK(cond) INGEST_CHECK(cond)
#endif
