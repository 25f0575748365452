// The TLS configuration of `ingestd serve` (docs/security.md): a server certificate chain and
// key (PEM), TLS 1.2 and 1.3 only with forward-secret AEAD ciphers, and optionally client
// certificates verified against a CA bundle (mutual TLS for service-to-service callers).
//
// Reload() re-reads the files and swaps the context atomically: connections already open keep
// the context they were accepted with (OpenSSL reference-counts it), new ones get the new one,
// so a certificate rotated on disk takes effect on SIGHUP without dropping a connection. A
// reload that fails (missing file, key not matching the certificate) keeps the old context.
//
// Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "ingest/common/result.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace ingest::api {

struct TlsFiles {
  std::string cert_file;       // PEM certificate chain, leaf first
  std::string key_file;        // PEM private key
  std::string client_ca_file;  // PEM CA bundle; "" = no client certificates asked for
};

class TlsContext {
 public:
  // Loads the files. kInvalidArgument (reason "tls_config") naming the file that failed.
  static Result<std::unique_ptr<TlsContext>> Load(TlsFiles files);

  // The context new connections use.
  std::shared_ptr<SSL_CTX> Current() const;
  // Re-reads the files; on failure the current context stays in use.
  Status Reload();
  const TlsFiles& files() const { return files_; }

 private:
  explicit TlsContext(TlsFiles files) : files_(std::move(files)) {}
  static Result<std::shared_ptr<SSL_CTX>> Build(const TlsFiles& files);

  const TlsFiles files_;
  mutable std::mutex mu_;
  std::shared_ptr<SSL_CTX> ctx_;  // GUARDED_BY(mu_)
};

}  // namespace ingest::api
