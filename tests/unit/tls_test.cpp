// The TLS engine in memory: a client and a server object feeding each other
// their ciphertext, with a fresh self-signed identity per test.
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "net/tls.hpp"
#include "net/tls_identity.hpp"

using namespace braid;
using namespace braid::net;

namespace {

struct Pair {
  TlsIdentity id;
  std::unique_ptr<TlsContext> server_ctx, client_ctx;
  std::unique_ptr<TlsEngine> client, server;

  explicit Pair(std::optional<Fingerprint> pin = {}, bool use_real_pin = true) {
    std::string error;
    REQUIRE_MESSAGE(make_self_signed_identity("10.31.1.1", 30, id, error), error);
    server_ctx = TlsContext::server_from_pem(id.cert_pem, id.key_pem, error);
    REQUIRE_MESSAGE(server_ctx, error);
    TlsClientOptions o;
    o.pin = pin ? pin : use_real_pin ? std::optional<Fingerprint>(id.fingerprint) : std::nullopt;
    client_ctx = TlsContext::client(o, error);
    REQUIRE_MESSAGE(client_ctx, error);
    client = std::make_unique<TlsEngine>(*client_ctx, "10.31.1.1");
    server = std::make_unique<TlsEngine>(*server_ctx);
  }

  // Moves ciphertext both ways until neither side has any; false if a side failed.
  bool pump() {
    for (int i = 0; i < 20; ++i) {
      std::string c2s, s2c;
      c2s.swap(client->ciphertext());
      s2c.swap(server->ciphertext());
      if (c2s.empty() && s2c.empty()) return !client->failed() && !server->failed();
      if (!c2s.empty() && !server->feed(c2s.data(), c2s.size())) {
        // Let the alert reach the client.
        std::string alert;
        alert.swap(server->ciphertext());
        client->feed(alert.data(), alert.size());
        return false;
      }
      if (!s2c.empty() && !client->feed(s2c.data(), s2c.size())) {
        std::string alert;
        alert.swap(client->ciphertext());
        server->feed(alert.data(), alert.size());
        return false;
      }
    }
    return false;
  }
};

}  // namespace

TEST_CASE("tls: fingerprints print and parse") {
  Fingerprint fp{};
  for (size_t i = 0; i < fp.size(); ++i) fp[i] = static_cast<uint8_t>(i * 7);
  const std::string text = fingerprint_to_string(fp);
  CHECK(text.rfind("sha256:", 0) == 0);
  CHECK(text.size() == 7 + 64);
  CHECK(parse_fingerprint(text) == fp);
  std::string upper = text.substr(7);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(parse_fingerprint(upper) == fp);
  CHECK_FALSE(parse_fingerprint("sha256:abcd"));
  CHECK_FALSE(parse_fingerprint("sha256:" + std::string(64, 'g')));
}

TEST_CASE("tls: a pinned client and the server complete the handshake and carry data both ways") {
  Pair p;
  REQUIRE(p.client->start());
  CHECK_FALSE(p.client->ciphertext().empty());  // the ClientHello
  // Written before the handshake: held, then sent once it completes.
  REQUIRE(p.client->write("early", 5));
  REQUIRE(p.pump());
  CHECK(p.client->handshake_done());
  CHECK(p.server->handshake_done());
  CHECK(p.server->plaintext() == "early");
  p.server->plaintext().clear();
  std::string big(300000, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31);
  REQUIRE(p.server->write(big.data(), big.size()));
  REQUIRE(p.pump());
  CHECK(p.client->plaintext() == big);
  // The ciphertext is not the plaintext.
  Fingerprint seen{};
  REQUIRE(p.client->peer_fingerprint(seen));
  CHECK(seen == p.id.fingerprint);
}

TEST_CASE("tls: a wrong pinned fingerprint is refused with a message naming both fingerprints") {
  Fingerprint wrong{};
  wrong.fill(0x42);
  Pair p(wrong);
  REQUIRE(p.client->start());
  CHECK_FALSE(p.pump());
  CHECK(p.client->failed());
  CHECK_FALSE(p.client->handshake_done());
  CHECK(p.client->error().find("does not match the pinned fingerprint") != std::string::npos);
  CHECK(p.client->error().find(fingerprint_to_string(wrong)) != std::string::npos);
  CHECK(p.client->error().find(fingerprint_to_string(p.id.fingerprint)) != std::string::npos);
  // The server hears why (a bad_certificate alert).
  CHECK(p.server->failed());
  CHECK_FALSE(p.server->handshake_done());
}

TEST_CASE("tls: without a pin, a self-signed certificate fails CA verification") {
  Pair p(std::nullopt, false);
  REQUIRE(p.client->start());
  CHECK_FALSE(p.pump());
  CHECK(p.client->error().find("certificate") != std::string::npos);
}

TEST_CASE("tls: exporter keys are equal at both ends and differ by label and context") {
  Pair p;
  REQUIRE(p.client->start());
  REQUIRE(p.pump());
  const uint8_t ctx1[4] = {0, 0, 0, 1}, ctx2[4] = {0, 0, 0, 2};
  uint8_t a[32], b[32], c[32], d[32];
  REQUIRE(p.client->export_key("EXPORTER-braid test", ctx1, 4, a, 32));
  REQUIRE(p.server->export_key("EXPORTER-braid test", ctx1, 4, b, 32));
  CHECK(std::memcmp(a, b, 32) == 0);
  REQUIRE(p.server->export_key("EXPORTER-braid test", ctx2, 4, c, 32));
  CHECK(std::memcmp(a, c, 32) != 0);
  REQUIRE(p.server->export_key("EXPORTER-braid other", ctx1, 4, d, 32));
  CHECK(std::memcmp(a, d, 32) != 0);
  // A second connection has other keys.
  Pair q;
  REQUIRE(q.client->start());
  REQUIRE(q.pump());
  uint8_t e[32];
  REQUIRE(q.client->export_key("EXPORTER-braid test", ctx1, 4, e, 32));
  CHECK(std::memcmp(a, e, 32) != 0);
}

TEST_CASE("tls: close_notify ends one direction and the other still carries data") {
  Pair p;
  REQUIRE(p.client->start());
  REQUIRE(p.pump());
  REQUIRE(p.client->write("last words", 10));
  p.client->close_notify();
  p.client->close_notify();  // idempotent
  CHECK(p.client->write("ignored", 7));
  REQUIRE(p.pump());
  CHECK(p.server->plaintext() == "last words");
  CHECK(p.server->peer_closed());
  CHECK_FALSE(p.client->peer_closed());
  // Half-close: the server still answers, then closes its side too.
  REQUIRE(p.server->write("reply", 5));
  p.server->close_notify();
  REQUIRE(p.pump());
  CHECK(p.client->plaintext() == "reply");
  CHECK(p.client->peer_closed());
}

TEST_CASE("tls: garbage instead of a handshake is an error, not a hang") {
  Pair p;
  // A plaintext Braid header followed by early data, as a client in
  // insecure_plaintext mode would send it.
  const std::string junk = std::string("\x02\x01\x00\x01u\x03tok\x01\x7f\x00\x00\x01\x00\x50", 17) + std::string(2000, 'x');
  CHECK_FALSE(p.server->feed(junk.data(), junk.size()));
  CHECK(p.server->failed());
  CHECK_FALSE(p.server->error().empty());
}

TEST_CASE("tls: a self-signed identity's fingerprint matches its PEM") {
  TlsIdentity id;
  std::string error;
  REQUIRE(make_self_signed_identity("conc.example", 10, id, error));
  CHECK(id.key_pem.find("PRIVATE KEY") != std::string::npos);
  CHECK(id.cert_pem.find("BEGIN CERTIFICATE") != std::string::npos);
  Fingerprint fp{};
  REQUIRE(fingerprint_of_pem(id.cert_pem, fp, error));
  CHECK(fp == id.fingerprint);
  CHECK_FALSE(fingerprint_of_pem("not pem", fp, error));
}
