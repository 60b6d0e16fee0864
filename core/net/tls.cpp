#include "net/tls.hpp"

#include <arpa/inet.h>

#include <cstring>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace braid::net {

namespace {

// The most recent OpenSSL error as text, and the queue cleared, so one
// connection's failure never shows up as another's.
std::string openssl_error() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    // "error:0A000086:SSL routines::certificate verify failed" -> the reason.
    const char* reason = ERR_reason_error_string(e);
    out = reason ? reason : buf;
  }
  return out;
}

bool spki_fingerprint(X509* cert, Fingerprint& out) {
  unsigned char* der = nullptr;
  const int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
  if (len <= 0) return false;
  unsigned int n = 0;
  const bool ok = EVP_Digest(der, static_cast<size_t>(len), out.data(), &n, EVP_sha256(), nullptr) == 1 && n == 32;
  OPENSSL_free(der);
  return ok;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

SSL_CTX* new_ctx(bool server) {
  SSL_CTX* ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (!ctx) return nullptr;
  // Braid speaks only to Braid: TLS 1.3, nothing older to negotiate down to.
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  // Every proxied connection is a fresh handshake (the pool hides its cost):
  // no tickets to send, store or leak.
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  return ctx;
}

}  // namespace

std::string fingerprint_to_string(const Fingerprint& fp) {
  static const char* hex = "0123456789abcdef";
  std::string s = "sha256:";
  for (uint8_t b : fp) {
    s += hex[b >> 4];
    s += hex[b & 15];
  }
  return s;
}

std::optional<Fingerprint> parse_fingerprint(const std::string& text) {
  std::string t = text;
  if (t.rfind("sha256:", 0) == 0 || t.rfind("SHA256:", 0) == 0) t = t.substr(7);
  std::string digits;
  for (char c : t)
    if (c != ':') digits += c;
  if (digits.size() != 64) return std::nullopt;
  Fingerprint fp{};
  for (size_t i = 0; i < 32; ++i) {
    auto nib = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    const int hi = nib(digits[2 * i]), lo = nib(digits[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    fp[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return fp;
}

// ---------------------------------------------------------------- context

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

std::unique_ptr<TlsContext> TlsContext::server(const std::string& cert_file, const std::string& key_file,
                                               std::string& error) {
  SSL_CTX* ctx = new_ctx(true);
  if (!ctx) {
    error = "cannot create a TLS context: " + openssl_error();
    return nullptr;
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    error = "TLS certificate " + cert_file + ": " + openssl_error();
    SSL_CTX_free(ctx);
    return nullptr;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    error = "TLS key " + key_file + ": " + openssl_error();
    SSL_CTX_free(ctx);
    return nullptr;
  }
  std::unique_ptr<TlsContext> c(new TlsContext(ctx, true));
  if (SSL_CTX_check_private_key(ctx) != 1) {
    error = "TLS key " + key_file + " does not belong to the certificate " + cert_file;
    openssl_error();
    return nullptr;
  }
  if (!spki_fingerprint(SSL_CTX_get0_certificate(ctx), c->own_fp_)) {
    error = "TLS certificate " + cert_file + ": cannot read its public key";
    return nullptr;
  }
  return c;
}

std::unique_ptr<TlsContext> TlsContext::server_from_pem(const std::string& cert_pem, const std::string& key_pem,
                                                        std::string& error) {
  SSL_CTX* ctx = new_ctx(true);
  if (!ctx) {
    error = "cannot create a TLS context: " + openssl_error();
    return nullptr;
  }
  std::unique_ptr<TlsContext> c(new TlsContext(ctx, true));
  BIO* cb = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  BIO_free(cb);
  BIO* kb = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  BIO_free(kb);
  const bool ok = cert && key && SSL_CTX_use_certificate(ctx, cert) == 1 && SSL_CTX_use_PrivateKey(ctx, key) == 1 &&
                  SSL_CTX_check_private_key(ctx) == 1 && spki_fingerprint(cert, c->own_fp_);
  X509_free(cert);
  EVP_PKEY_free(key);
  if (!ok) {
    error = "TLS certificate or key: " + openssl_error();
    return nullptr;
  }
  return c;
}

// Replaces OpenSSL's chain check when a fingerprint is pinned: the leaf's
// public key is the whole identity, as with an SSH host key.
int tls_verify_callback(void* store_ptr, void* /*arg*/) {
  auto* store = static_cast<X509_STORE_CTX*>(store_ptr);
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* engine = ssl ? static_cast<TlsEngine*>(SSL_get_app_data(ssl)) : nullptr;
  X509* leaf = X509_STORE_CTX_get0_cert(store);
  if (!engine || !leaf) return 0;
  const auto& pin = *engine->ctx_.client_options().pin;
  Fingerprint got{};
  if (!spki_fingerprint(leaf, got)) {
    engine->verify_error_ = "the server's certificate has no readable public key";
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
  }
  if (CRYPTO_memcmp(got.data(), pin.data(), pin.size()) != 0) {
    engine->verify_error_ = "the server's certificate does not match the pinned fingerprint: it has " +
                            fingerprint_to_string(got) + ", the access key wants " + fingerprint_to_string(pin);
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
  }
  return 1;
}

namespace {
int verify_trampoline(X509_STORE_CTX* store, void* arg) { return tls_verify_callback(store, arg); }
}  // namespace

std::unique_ptr<TlsContext> TlsContext::client(const TlsClientOptions& options, std::string& error) {
  SSL_CTX* ctx = new_ctx(false);
  if (!ctx) {
    error = "cannot create a TLS context: " + openssl_error();
    return nullptr;
  }
  std::unique_ptr<TlsContext> c(new TlsContext(ctx, false));
  c->options_ = options;
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (options.pin) {
    SSL_CTX_set_cert_verify_callback(ctx, verify_trampoline, nullptr);
  } else if (!options.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1) {
      error = "CA file " + options.ca_file + ": " + openssl_error();
      return nullptr;
    }
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    error = "cannot load the system's CA certificates: " + openssl_error();
    return nullptr;
  }
  return c;
}

// ---------------------------------------------------------------- engine

TlsEngine::TlsEngine(const TlsContext& ctx, const std::string& server_name) : ctx_(ctx) {
  ssl_ = SSL_new(ctx.native());
  if (!ssl_) {
    error_ = "cannot create a TLS connection: " + openssl_error();
    return;
  }
  SSL_set_app_data(ssl_, this);
  in_ = BIO_new(BIO_s_mem());
  out_ = BIO_new(BIO_s_mem());
  // An empty input BIO means "wait for more", not end of file.
  BIO_set_mem_eof_return(in_, -1);
  BIO_set_mem_eof_return(out_, -1);
  SSL_set_bio(ssl_, in_, out_);
  if (ctx.is_server()) {
    SSL_set_accept_state(ssl_);
    return;
  }
  SSL_set_connect_state(ssl_);
  if (!server_name.empty() && !is_ip_literal(server_name)) SSL_set_tlsext_host_name(ssl_, server_name.c_str());
  if (!ctx.client_options().pin && !server_name.empty()) {
    // CA mode: the certificate must name the host we meant to reach.
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    if (is_ip_literal(server_name))
      X509_VERIFY_PARAM_set1_ip_asc(param, server_name.c_str());
    else
      SSL_set1_host(ssl_, server_name.c_str());
  }
}

TlsEngine::~TlsEngine() { SSL_free(ssl_); }

bool TlsEngine::fail(const char* what, int ssl_result) {
  const int code = SSL_get_error(ssl_, ssl_result);
  std::string why = openssl_error();
  if (!verify_error_.empty()) {
    why = verify_error_;
  } else if (!ctx_.is_server() && SSL_get_verify_result(ssl_) != X509_V_OK) {
    why = std::string("certificate verification failed: ") +
          X509_verify_cert_error_string(SSL_get_verify_result(ssl_));
  } else if (why.empty()) {
    why = code == SSL_ERROR_SYSCALL ? "unexpected end of the TLS stream" : "TLS error " + std::to_string(code);
  }
  error_ = std::string(what) + ": " + why;
  drain_output();  // an alert may be waiting to tell the peer
  return false;
}

void TlsEngine::drain_output() {
  const size_t pending = BIO_ctrl_pending(out_);
  if (pending == 0) return;
  const size_t at = cipher_out_.size();
  cipher_out_.resize(at + pending);
  const int n = BIO_read(out_, cipher_out_.data() + at, static_cast<int>(pending));
  cipher_out_.resize(at + (n > 0 ? static_cast<size_t>(n) : 0));
}

bool TlsEngine::start() {
  if (failed()) return false;
  return advance();
}

bool TlsEngine::feed(const char* data, size_t len) {
  if (failed()) return false;
  if (len && BIO_write(in_, data, static_cast<int>(len)) != static_cast<int>(len)) {
    error_ = "TLS: cannot buffer input";
    return false;
  }
  return advance();
}

bool TlsEngine::advance() {
  // SSL_get_error() reads the thread's error queue: an error another engine
  // (or EVP, RAND) on this loop thread left there would turn this call's
  // "want read" into that stale failure (SSL_get_error(3)).
  ERR_clear_error();
  if (!done_) {
    const int r = SSL_do_handshake(ssl_);
    if (r != 1) {
      const int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        drain_output();
        return true;
      }
      return fail("TLS handshake failed", r);
    }
    done_ = true;
    if (!held_.empty()) {
      std::string held;
      held.swap(held_);
      if (!encrypt(held.data(), held.size())) return false;
    }
    if (close_queued_) {
      SSL_shutdown(ssl_);
      ERR_clear_error();
    }
  }
  // Decrypt everything buffered: the caller limits what it reads from the
  // socket, so plaintext here is bounded by one read.
  char buf[16384];
  while (!peer_closed_) {
    const int n = SSL_read(ssl_, buf, sizeof buf);
    if (n > 0) {
      plain_in_.append(buf, static_cast<size_t>(n));
      continue;
    }
    const int e = SSL_get_error(ssl_, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
    if (e == SSL_ERROR_ZERO_RETURN) {
      peer_closed_ = true;
      break;
    }
    return fail("TLS error", n);
  }
  drain_output();
  return true;
}

bool TlsEngine::write(const char* data, size_t len) {
  if (failed()) return false;
  if (len == 0) return true;
  if (close_queued_) return true;  // nothing may follow close_notify
  if (!done_) {
    held_.append(data, len);
    return true;
  }
  return encrypt(data, len);
}

bool TlsEngine::encrypt(const char* data, size_t len) {
  ERR_clear_error();  // as in advance()
  size_t off = 0;
  while (off < len) {
    size_t written = 0;
    const int r = SSL_write_ex(ssl_, data + off, len - off, &written);
    if (r != 1) return fail("TLS write failed", r);
    off += written;
  }
  drain_output();
  return true;
}

void TlsEngine::close_notify() {
  if (close_queued_ || failed()) return;
  close_queued_ = true;
  // Before the handshake completes there is nothing to close cleanly; the
  // alert goes out once it does (advance()).
  if (!done_) return;
  SSL_shutdown(ssl_);
  openssl_error();
  drain_output();
}

bool TlsEngine::export_key(const std::string& label, const uint8_t* context, size_t context_len, uint8_t* out,
                           size_t out_len) const {
  if (!done_) return false;
  return SSL_export_keying_material(ssl_, out, out_len, label.data(), label.size(), context, context_len, 1) == 1;
}

bool TlsEngine::peer_fingerprint(Fingerprint& out) const {
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (!cert) return false;
  const bool ok = spki_fingerprint(cert, out);
  X509_free(cert);
  return ok;
}

}  // namespace braid::net
