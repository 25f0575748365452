// BlobStore on S3-compatible object storage (AWS S3, MinIO, Ceph RGW, R2, ...): blob `k` is the
// object PREFIX/k in one bucket. Requests go through libcurl, signed with AWS Signature
// Version 4 (sigv4.h says why not libs3). Path-style URLs (ENDPOINT/BUCKET/KEY), which every
// S3-compatible server accepts.
//
// An S3 PUT is atomic (the object appears whole or not at all), so a crash mid-upload leaves
// nothing visible; uploads carry the content's sha256 as x-amz-content-sha256, which S3 checks.
// One PUT per blob: S3 takes up to 5 GiB that way (larger uploads are refused here).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "ingest/common/result.h"
#include "ingest/store/blob_store.h"
#include "ingest/store/blobs/blob_cache.h"

namespace ingest::store {

struct S3BlobStoreOptions {
  std::string bucket;
  std::string prefix;    // object key prefix without leading or trailing '/'; may be empty
  std::string endpoint;  // "http(s)://host[:port]"; empty: https://s3.REGION.amazonaws.com
  std::string region = "us-east-1";
  // Secrets: never logged, never part of Describe().
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials (AWS_SESSION_TOKEN); may be empty
  std::chrono::seconds connect_timeout{10};
  // A transfer slower than 1 KiB/s for this long is abandoned (kUnavailable).
  std::chrono::seconds low_speed_timeout{60};
  blobs::BlobCacheOptions cache;  // LocalPath copies
};

// Parses "s3://bucket/prefix" into bucket and prefix. kInvalidArgument ("bad_blobs_url")
// otherwise.
Status ParseS3Url(std::string_view url, S3BlobStoreOptions* options);

// Thread-safe (one curl handle per call). kInvalidArgument when bucket or credentials are
// missing. Does not connect until first used.
Result<std::unique_ptr<BlobStore>> OpenS3BlobStore(const S3BlobStoreOptions& options);

}  // namespace ingest::store
