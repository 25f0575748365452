#include "ingest/common/ids.h"

#include <uuid/uuid.h>

#include "ingest/common/check.h"

namespace ingest {
namespace {

std::string Unparse(const uuid_t u) {
  char out[37];
  uuid_unparse_lower(u, out);
  return std::string(out, 36);
}

// RFC 4122 Appendix C: the DNS namespace.
constexpr const char* kDnsNamespace = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";

}  // namespace

std::string UuidV5(std::string_view ns, std::string_view name) {
  uuid_t ns_bin;
  std::string ns_str(ns);
  INGEST_CHECK(uuid_parse(ns_str.c_str(), ns_bin) == 0);
  uuid_t out;
  uuid_generate_sha1(out, ns_bin, name.data(), name.size());
  return Unparse(out);
}

std::string_view IngestNamespace() {
  static const std::string ns = UuidV5(kDnsNamespace, "ingestd.dev");
  return ns;
}

std::string UuidV4() {
  uuid_t out;
  uuid_generate_random(out);
  return Unparse(out);
}

std::string DocumentId(std::string_view tenant, std::string_view file_sha256) {
  std::string tenant_ns = UuidV5(IngestNamespace(), std::string("tenant:") + std::string(tenant));
  return UuidV5(tenant_ns, file_sha256);
}

std::string ChunkId(std::string_view document_id, std::string_view chunker_version, int ordinal) {
  return UuidV5(document_id, std::string(chunker_version) + "/" + std::to_string(ordinal));
}

std::string JobId(std::string_view document_id) { return UuidV5(document_id, "job"); }

}  // namespace ingest
