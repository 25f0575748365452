#include "ingest/api/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace ingest::api {
namespace {

// TLS 1.2 suites: ECDHE key exchange (forward secrecy) with AEAD ciphers only; no CBC, no RSA
// key transport, no SHA-1 MACs. TLS 1.3 suites are OpenSSL's defaults (all AEAD).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// The last OpenSSL error as text (file names and library reasons; never key material).
std::string OpenSslError() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

Status TlsError(const std::string& what) {
  return InvalidArgument(what + ": " + OpenSslError(), "tls_config");
}

}  // namespace

Result<std::shared_ptr<SSL_CTX>> TlsContext::Build(const TlsFiles& files) {
  ERR_clear_error();
  if (files.cert_file.empty() || files.key_file.empty()) {
    return InvalidArgument("api.tls_cert_file and api.tls_key_file must both be set", "tls_config");
  }
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) return TlsError("cannot create a TLS context");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(
      ctx.get(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                  SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_cipher_list(ctx.get(), kTls12Ciphers) != 1) {
    return TlsError("cannot set the TLS 1.2 cipher list");
  }
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), files.cert_file.c_str()) != 1) {
    return TlsError("cannot load api.tls_cert_file " + files.cert_file);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), files.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return TlsError("cannot load api.tls_key_file " + files.key_file);
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    return TlsError("api.tls_key_file " + files.key_file + " does not match api.tls_cert_file");
  }
  if (!files.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx.get(), files.client_ca_file.c_str(), nullptr) != 1) {
      return TlsError("cannot load api.tls_client_ca_file " + files.client_ca_file);
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.client_ca_file.c_str());
    if (names == nullptr) {
      return TlsError("no CA certificate in api.tls_client_ca_file " + files.client_ca_file);
    }
    SSL_CTX_set_client_CA_list(ctx.get(), names);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return ctx;
}

Result<std::unique_ptr<TlsContext>> TlsContext::Load(TlsFiles files) {
  auto ctx = Build(files);
  if (!ctx.ok()) return ctx.status();
  std::unique_ptr<TlsContext> out(new TlsContext(std::move(files)));
  out->ctx_ = std::move(*ctx);
  return out;
}

std::shared_ptr<SSL_CTX> TlsContext::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ctx_;
}

Status TlsContext::Reload() {
  auto ctx = Build(files_);
  if (!ctx.ok()) return ctx.status();
  std::lock_guard<std::mutex> lock(mu_);
  ctx_ = std::move(*ctx);
  return Status::Ok();
}

}  // namespace ingest::api
