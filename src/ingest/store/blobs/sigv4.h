// AWS Signature Version 4 for S3 requests (the Authorization header), computed with OpenSSL.
// Why not a library: Debian's libs3 (2.0) signs with the retired Signature Version 2 only, and
// curl's CURLOPT_AWS_SIGV4 in Debian 12 cannot sign the payload hash of a streamed upload;
// signing ourselves lets a PUT carry the content's real sha256, which S3 verifies.
#pragma once

#include <map>
#include <string>

namespace ingest::store::blobs {

struct SigV4Request {
  std::string method;           // "GET", "PUT", ...
  std::string canonical_uri;    // the path, already URI-encoded ("/bucket/a%20b")
  std::string canonical_query;  // sorted, encoded "k=v&k2=v2"; "" for none
  // Headers to sign, names lower-case. Must include host, x-amz-date and x-amz-content-sha256.
  std::map<std::string, std::string> headers;
  std::string payload_sha256;  // hex; the value of x-amz-content-sha256
};

struct SigV4Credentials {
  std::string access_key_id;
  std::string secret_access_key;
};

// The Authorization header's value for `request` at `amz_date` ("20130524T000000Z") in
// `region` for `service` ("s3").
std::string SigV4Authorization(const SigV4Request& request, const SigV4Credentials& credentials,
                               const std::string& region, const std::string& service,
                               const std::string& amz_date);

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters kept, '/' kept when
// `keep_slash`, everything else %XX (upper-case hex).
std::string UriEncode(std::string_view s, bool keep_slash);

}  // namespace ingest::store::blobs
