// The client engine and the concentrator together on one libuv loop in a
// thread, on loopback, for tests that drive them with plain blocking sockets
// the way an application would (proxy_test.cpp, pool_test.cpp). Each test
// ends by stopping both and checking that every handle closed.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <uv.h>

#include "client/engine.hpp"
#include "concentrator/server.hpp"
#include "concentrator/users.hpp"
#include "net/log.hpp"
#include "net/tls_identity.hpp"
#include "socket_util.hpp"
#include "test_util.hpp"

namespace braid::test {

// One TLS identity for the whole run (making a key is cheap, but not free).
inline const net::TlsIdentity& test_identity() {
  static const net::TlsIdentity id = [] {
    net::TlsIdentity made;
    std::string error;
    REQUIRE_MESSAGE(net::make_self_signed_identity("127.0.0.1", 1, made, error), error);
    return made;
  }();
  return id;
}

enum class Channel { tls, plaintext };

class Stack {
 public:
  // The concentrator knows user "alice" with token "s3cret"; the client logs
  // in as alice with @p client_token, over TLS pinned to the test identity
  // unless @p channel is plaintext. @p conc_tweak adjusts the concentrator.
  explicit Stack(std::function<void(config::ClientConfig&)> tweak = {}, bool with_concentrator = true,
                 std::string client_token = "s3cret", Channel channel = Channel::tls,
                 std::function<void(config::ConcentratorConfig&)> conc_tweak = {}) {
    log::set_level(std::getenv("BRAID_TEST_LOG") ? log::Level::debug : log::Level::warn);
    uv_loop_init(&loop_);
    char dir[] = "/tmp/braid-proxy-test.XXXXXX";
    REQUIRE(::mkdtemp(dir));
    dir_ = dir;
    concentrator::Users users;
    users.set("alice", "s3cret");
    std::string error;
    REQUIRE(config::write_file_atomic(dir_ + "/users.json", users.to_json(), 0600, error));
    REQUIRE(config::write_file_atomic(dir_ + "/cert.pem", test_identity().cert_pem, 0600, error));
    REQUIRE(config::write_file_atomic(dir_ + "/key.pem", test_identity().key_pem, 0600, error));
    config::ConcentratorConfig cc = config::default_concentrator_config();
    cc.listen = *parse_host_port("127.0.0.1:0");
    cc.users_file = dir_ + "/users.json";
    cc.tls_cert = dir_ + "/cert.pem";
    cc.tls_key = dir_ + "/key.pem";
    cc.insecure_plaintext = channel == Channel::plaintext;
    cc.mptcp_subflows = 0;  // leave the namespace's limits alone
    cc.tcp_fastopen = false;  // and its net.ipv4.tcp_fastopen
    // The test servers are on loopback, which the concentrator refuses by default.
    for (const char* lo : {"127.0.0.0/8", "::1"}) cc.destinations.allow.push_back(*net::AddressRule::parse(lo));
    if (conc_tweak) conc_tweak(cc);
    server_ = std::make_unique<concentrator::Server>(&loop_, cc);
    REQUIRE_MESSAGE(server_->start(error), error);
    config::ClientConfig c = config::default_client_config();
    c.socks_listen = *parse_host_port("127.0.0.1:0");
    c.http_listen = *parse_host_port("127.0.0.1:0");
    c.mixed_listen = *parse_host_port("127.0.0.1:0");
    if (with_concentrator) {
      config::Concentrator k;
      k.address = server_->bound();
      k.user = "alice";
      k.token = client_token;
      k.fingerprint = net::fingerprint_to_string(test_identity().fingerprint);
      k.insecure_plaintext = channel == Channel::plaintext;
      c.concentrator = k;
    }
    // Unit tests leave the system alone: no endpoints, no state, no API.
    c.manage_endpoints = false;
    c.state_file.clear();
    c.control.reset();
    if (tweak) tweak(c);
    engine_ = std::make_unique<client::Engine>(&loop_, c);
    REQUIRE_MESSAGE(engine_->start(error), error);
    for (const auto& l : engine_->listening()) {
      if (l.frontend == client::Frontend::socks5) socks = l.address.port;
      if (l.frontend == client::Frontend::http) http = l.address.port;
      if (l.frontend == client::Frontend::mixed) mixed = l.address.port;
    }
    uv_async_init(&loop_, &stop_, [](uv_async_t* a) {
      auto* self = static_cast<Stack*>(a->data);
      self->engine_->stop([] {});
      self->server_->stop([] {});
      uv_close(reinterpret_cast<uv_handle_t*>(a), nullptr);
      uv_close(reinterpret_cast<uv_handle_t*>(&self->call_), nullptr);
    });
    stop_.data = this;
    uv_async_init(&loop_, &call_, [](uv_async_t* a) {
      auto* self = static_cast<Stack*>(a->data);
      std::vector<std::function<void()>> calls;
      {
        std::lock_guard<std::mutex> lock(self->calls_mutex_);
        calls.swap(self->calls_);
      }
      for (auto& f : calls) f();
    });
    call_.data = this;
    thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
  }
  ~Stack() {
    uv_async_send(&stop_);
    thread_.join();
    engine_.reset();
    server_.reset();
    CHECK(uv_loop_close(&loop_) == 0);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  uint16_t socks = 0, http = 0, mixed = 0;
  uint16_t concentrator() const { return server_->bound().port; }

  /// Runs @p fn on the loop's thread and returns its result (the engine and
  /// the concentrator are not thread-safe).
  template <typename Fn>
  auto on_loop(Fn fn) -> decltype(fn()) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    {
      std::lock_guard<std::mutex> lock(calls_mutex_);
      calls_.emplace_back([&task] { task(); });
    }
    uv_async_send(&call_);
    return result.get();
  }
  client::PoolStats pool() {
    return on_loop([this] { return engine_->pool_stats(); });
  }
  /// Waits up to @p ms for @p ok(pool stats).
  bool wait_pool(const std::function<bool(const client::PoolStats&)>& ok, int ms = 5000) {
    for (int waited = 0; waited < ms; waited += 20) {
      if (ok(pool())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return ok(pool());
  }
  client::Engine& engine() { return *engine_; }
  concentrator::Server& server() { return *server_; }

 private:
  uv_loop_t loop_;
  uv_async_t stop_;
  uv_async_t call_;
  std::mutex calls_mutex_;
  std::vector<std::function<void()>> calls_;
  std::unique_ptr<concentrator::Server> server_;
  std::unique_ptr<client::Engine> engine_;
  std::thread thread_;
  std::string dir_;
};

inline Bytes socks_connect(uint16_t port) {
  Bytes b = hex("05 01 00 01 7f 00 00 01");
  b.push_back(static_cast<uint8_t>(port >> 8));
  b.push_back(static_cast<uint8_t>(port & 0xff));
  return b;
}

// Greets without auth, sends CONNECT to 127.0.0.1:port, returns the REP code.
inline int socks_open(Conn& c, uint16_t port) {
  c.send(hex("05 01 00"));
  CHECK(c.recv_n(2) == std::string("\x05\x00", 2));
  c.send(socks_connect(port));
  auto rep = c.recv_n(10);
  if (rep.size() < 2) return -1;
  return static_cast<uint8_t>(rep[1]);
}

inline std::string random_bytes(size_t n) {
  std::mt19937_64 rng(42);
  std::string s(n, '\0');
  for (auto& ch : s) ch = static_cast<char>(rng());
  return s;
}

}  // namespace braid::test
