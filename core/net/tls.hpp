// TLS 1.3 for the client <-> concentrator channel, as a pure byte engine:
// ciphertext from the socket goes in, plaintext comes out; plaintext written
// comes out as ciphertext to send. OpenSSL runs over two memory BIOs, so
// nothing here touches a socket or libuv and tests drive both ends in memory.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct bio_st BIO;

namespace braid::net {

/// SHA-256 of a certificate's SubjectPublicKeyInfo (DER): what an access key pins.
using Fingerprint = std::array<uint8_t, 32>;

/// "sha256:" + 64 lower-case hex digits.
std::string fingerprint_to_string(const Fingerprint& fp);
/// Accepts "sha256:HEX" (or bare HEX, either case, ':' between bytes allowed).
std::optional<Fingerprint> parse_fingerprint(const std::string& text);

/// How a client decides whether to trust the server's certificate.
struct TlsClientOptions {
  /// When set, the certificate is trusted exactly when the SHA-256 of its
  /// public key (SPKI, DER) equals this; no CA and no name check.
  std::optional<Fingerprint> pin;
  /// Without a pin: CA certificates in PEM ("" = the system's store).
  std::string ca_file;
};

/**
 * One SSL_CTX: the concentrator's certificate and key, or a client's trust
 * settings. TLS 1.3 only, no session tickets. Shared by every engine made
 * from it; must outlive them.
 */
class TlsContext {
 public:
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  /// Loads a PEM certificate (chain) and its private key. nullptr and
  /// @p error naming the file when it cannot.
  static std::unique_ptr<TlsContext> server(const std::string& cert_file, const std::string& key_file,
                                            std::string& error);
  /// Same, from PEM text in memory (tests).
  static std::unique_ptr<TlsContext> server_from_pem(const std::string& cert_pem, const std::string& key_pem,
                                                     std::string& error);
  static std::unique_ptr<TlsContext> client(const TlsClientOptions& options, std::string& error);

  bool is_server() const { return server_; }
  const TlsClientOptions& client_options() const { return options_; }
  /// The server certificate's SPKI fingerprint (server contexts).
  const Fingerprint& own_fingerprint() const { return own_fp_; }
  SSL_CTX* native() const { return ctx_; }

 private:
  TlsContext(SSL_CTX* ctx, bool server) : ctx_(ctx), server_(server) {}
  SSL_CTX* ctx_;
  bool server_;
  TlsClientOptions options_;
  Fingerprint own_fp_{};
};

/**
 * One TLS connection over memory BIOs.
 *
 * feed() takes ciphertext read from the socket: it advances the handshake
 * and decrypts what it can into plaintext(). write() encrypts (or, before
 * the handshake is done, holds) plaintext. Whatever must go on the wire —
 * handshake messages, records, alerts — collects in ciphertext(); the caller
 * sends it after each call and clears it.
 */
class TlsEngine {
 public:
  /// @p server_name: the name the server must prove (CA mode) and the SNI
  /// sent (skipped for IP literals, RFC 6066 §3). Ignored for servers.
  TlsEngine(const TlsContext& ctx, const std::string& server_name = {});
  ~TlsEngine();
  TlsEngine(const TlsEngine&) = delete;
  TlsEngine& operator=(const TlsEngine&) = delete;

  /// Client: produces the ClientHello in ciphertext(). Servers wait for feed().
  bool start();
  /// Ciphertext from the peer. False on a TLS error (error() says what);
  /// the connection is then unusable, though ciphertext() may hold an alert.
  bool feed(const char* data, size_t len);
  /// Encrypts plaintext; held until the handshake completes. False on error.
  bool write(const char* data, size_t len);
  /// Queues close_notify (after anything written before). Idempotent.
  void close_notify();

  std::string& ciphertext() { return cipher_out_; }
  std::string& plaintext() { return plain_in_; }

  bool handshake_done() const { return done_; }
  /// The peer sent close_notify: its direction ended cleanly.
  bool peer_closed() const { return peer_closed_; }
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }

  /// RFC 8446 §7.5 exporter: @p out_len bytes for @p label and @p context.
  /// False before the handshake completes.
  bool export_key(const std::string& label, const uint8_t* context, size_t context_len, uint8_t* out,
                  size_t out_len) const;
  /// Fingerprint of the peer certificate's public key (false when none).
  bool peer_fingerprint(Fingerprint& out) const;

 private:
  bool advance();  // handshake, then decrypt; false on error
  bool encrypt(const char* data, size_t len);
  void drain_output();
  bool fail(const char* what, int ssl_result);
  friend int tls_verify_callback(void*, void*);

  const TlsContext& ctx_;
  SSL* ssl_ = nullptr;
  BIO* in_ = nullptr;   ///< ciphertext from the peer (owned by ssl_)
  BIO* out_ = nullptr;  ///< ciphertext to the peer (owned by ssl_)
  std::string cipher_out_;
  std::string plain_in_;
  std::string held_;  ///< plaintext written before the handshake completed
  bool done_ = false;
  bool peer_closed_ = false;
  bool close_queued_ = false;
  std::string error_;
  std::string verify_error_;  ///< why the certificate was refused, set by the verify callback
};

}  // namespace braid::net
