// The client's pool of pre-warmed connections (core/client/pool.cpp) with a
// real concentrator on loopback: warm connects skip the dial and the TLS
// handshake, idle connections the concentrator closes never fail an
// application, a dead one handed out is replaced by a fresh dial, the pool
// can be switched off, and the optimistic SOCKS reply.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "http/request_head.hpp"
#include "proxy_stack.hpp"
#include "socket_util.hpp"
#include "socks5/codec.hpp"
#include "test_util.hpp"
#include "tunnel/wire.hpp"

using namespace braid;
using namespace braid::test;

namespace {

// One SOCKS5 CONNECT through braid to the echo server, @p n random bytes
// up and back; true when they came back intact.
bool echo_once(Stack& stack, uint16_t echo_port, size_t n) {
  Conn c(stack.socks);
  if (socks_open(c, echo_port) != socks5::kSucceeded) return false;
  const std::string payload = random_bytes(n);
  auto reader = std::async(std::launch::async, [&] { return c.recv_all(); });
  c.send(payload);
  c.shutdown_write();
  return reader.get() == payload;
}

bool warm(const client::PoolStats& p) { return p.idle >= p.min && p.opening == 0; }

}  // namespace

TEST_CASE("pool: a warm pool serves connects with pre-warmed connections (no dial, no TLS handshake)") {
  TestServer server(echo);
  Stack stack([](config::ClientConfig& c) { c.pool = {2, 4, 60000}; });
  REQUIRE(stack.wait_pool(warm));
  const uint64_t opened_before = stack.pool().opened;
  for (int i = 0; i < 5; ++i) {
    CAPTURE(i);
    Conn c(stack.socks);
    REQUIRE(socks_open(c, server.port()) == socks5::kSucceeded);
    // The session's upstream came from the pool: its TLS handshake was done there.
    const auto conns = stack.on_loop([&] { return stack.engine().connections(); });
    REQUIRE(conns.size() == 1);
    CHECK(conns[0].prewarmed);
    const std::string payload = random_bytes(200000);
    auto reader = std::async(std::launch::async, [&] { return c.recv_all(); });
    c.send(payload);
    c.shutdown_write();
    CHECK(reader.get() == payload);
    REQUIRE(stack.wait_pool(warm));  // refilled in the background
  }
  const auto p = stack.pool();
  CHECK(p.hits == 5);
  CHECK(p.misses == 0);
  CHECK(p.fallbacks == 0);
  CHECK(p.refill_failures == 0);
  // Every TLS handshake happened in the pool, ahead of time: as many as were
  // taken, plus the pool growing with the connect rate.
  CHECK(p.opened - opened_before >= 5);
}

TEST_CASE("pool: the pool grows with the connect rate, within max") {
  TestServer server(echo);
  Stack stack([](config::ClientConfig& c) { c.pool = {1, 6, 60000}; });
  REQUIRE(stack.wait_pool(warm));
  for (int i = 0; i < 10; ++i) CHECK(echo_once(stack, server.port(), 1000));
  CHECK(stack.wait_pool([](const client::PoolStats& p) { return p.target == 6 && p.idle == 6; }));
}

TEST_CASE("pool: the concentrator closing idle pooled connections fails no application connection") {
  TestServer server(echo);
  // The concentrator keeps an idle established connection 1.5 s (below the
  // client's max_idle_ms, the wrong way round on purpose): the pool sees
  // them closed again and again while connects keep coming.
  Stack stack([](config::ClientConfig& c) { c.pool = {3, 8, 60000}; }, true, "s3cret", Channel::tls,
              [](config::ConcentratorConfig& cc) { cc.limits.pool_idle_ms = 1500; });
  REQUIRE(stack.wait_pool(warm));
  const auto start = std::chrono::steady_clock::now();
  int ok = 0, n = 0;
  while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(4500)) {
    ++n;
    ok += echo_once(stack, server.port(), 5000);
    std::this_thread::sleep_for(std::chrono::milliseconds(137));
  }
  CHECK(ok == n);
  const auto p = stack.pool();
  CAPTURE(p.closed_idle);
  CAPTURE(p.fallbacks);
  CHECK(p.closed_idle >= 1);   // the concentrator did close idle ones
  CHECK(p.refill_failures == 0);  // and that is not a failure
}

TEST_CASE("pool: idle pooled connections outlive the concentrator's handshake timeout") {
  TestServer server(echo);
  Stack stack([](config::ClientConfig& c) { c.pool = {2, 2, 60000}; }, true, "s3cret", Channel::tls,
              [](config::ConcentratorConfig& cc) { cc.limits.handshake_timeout_ms = 300; });
  REQUIRE(stack.wait_pool(warm));
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  auto p = stack.pool();
  CHECK(p.closed_idle == 0);
  CHECK(p.idle == 2);
  CHECK(echo_once(stack, server.port(), 1000));
  p = stack.pool();
  CHECK(p.hits == 1);
  // A client that connects and says nothing still meets the handshake timeout.
  Conn idle(stack.concentrator());
  CHECK(idle.recv_all().empty());
  CHECK(idle.closed());
}

TEST_CASE("pool: a connection that fails before the reply is replaced by a fresh dial once, bytes intact") {
  TestServer echo_server(echo);
  // A stand-in concentrator speaking the plaintext protocol: it drops the
  // first connection that brings a request, unanswered (as a concentrator
  // closing an idle connection just as the header arrives would), and
  // answers the others, echoing the stream itself.
  std::atomic<int> requests{0};
  std::atomic<size_t> early_on_retry{0};
  TestServer fake([&](int fd) {
    std::string in;
    char buf[65536];
    ParseResult<wire::Request> r;
    for (;;) {
      r = wire::decode_request(bytes_of(in));
      if (r.status != Parse::need_more) break;
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      in.append(buf, static_cast<size_t>(n));
    }
    if (r.status != Parse::done || requests++ == 0) return;
    early_on_retry = in.size() - r.consumed;
    wire::Reply reply;
    reply.status = wire::kOk;
    Bytes out;
    wire::encode_reply(reply, out);
    out.insert(out.end(), in.begin() + static_cast<long>(r.consumed), in.end());
    ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    echo(fd);
  });
  for (auto [pooled, optimistic] : {std::pair{true, false}, {true, true}, {false, false}}) {
    CAPTURE(pooled);
    CAPTURE(optimistic);
    requests = 0;
    Stack stack(
        [&](config::ClientConfig& c) {
          c.pool = pooled ? config::Pool{1, 1, 60000} : config::Pool{0, 0, 60000};
          c.optimistic_reply = optimistic;
          c.concentrator->address = *parse_host_port("127.0.0.1:" + std::to_string(fake.port()));
        },
        true, "s3cret", Channel::plaintext);
    REQUIRE(stack.wait_pool(warm));
    // An HTTP request: its head rides with the header, and must ride again.
    Conn c(stack.http);
    const std::string head = "GET http://127.0.0.1:" + std::to_string(echo_server.port()) +
                             "/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    c.send(head);
    // The stand-in echoes: the rewritten request head comes back as the "response".
    const std::string got = c.recv_n(14);
    CHECK(got == "GET /x HTTP/1.");
    const auto p = stack.pool();
    CHECK(p.hits == (pooled ? 1 : 0));
    CHECK(p.fallbacks == (pooled ? 1 : 0));
    CHECK(requests == 2);
    CHECK(early_on_retry > 0);
  }
}

TEST_CASE("pool: switched off, connects dial the concentrator each time") {
  TestServer server(echo);
  for (const char* how : {"max 0", "config false"}) {
    CAPTURE(how);
    Stack stack([&](config::ClientConfig& c) {
      if (std::string(how) == "max 0") {
        c.pool = {0, 0, 60000};
      } else {
        std::string error;
        auto parsed = config::parse_client_config(R"({"pool": false})", error);
        REQUIRE_MESSAGE(parsed, error);
        c.pool = parsed->pool;
      }
    });
    for (int i = 0; i < 3; ++i) CHECK(echo_once(stack, server.port(), 100000));
    const auto p = stack.pool();
    CHECK_FALSE(p.enabled);
    CHECK(p.hits == 0);
  }
}

TEST_CASE("pool: optimistic reply answers SOCKS5 at once; a refusal then closes the application's connection") {
  TestServer server(echo);
  const uint16_t refused = closed_port();
  for (bool optimistic : {false, true}) {
    CAPTURE(optimistic);
    Stack stack([&](config::ClientConfig& c) {
      c.pool = {2, 4, 60000};
      c.optimistic_reply = optimistic;
    });
    REQUIRE(stack.wait_pool(warm));
    {
      // A destination that refuses: without optimism the app hears why
      // (REP 5); with it, it heard "succeeded" already and sees the close.
      Conn c(stack.socks);
      CHECK(socks_open(c, refused) == (optimistic ? socks5::kSucceeded : socks5::kConnectionRefused));
      CHECK(c.recv_all().empty());
      CHECK(c.closed());
    }
    REQUIRE(stack.wait_pool(warm));
    {
      // The app sends right behind its request, before any reply: the bytes
      // follow the header and come back intact.
      Conn c(stack.socks);
      const std::string payload = random_bytes(1 << 20);
      c.send(hex("05 01 00"));
      Bytes req = socks_connect(server.port());
      c.send(std::string(req.begin(), req.end()) + payload.substr(0, 1000));
      CHECK(c.recv_n(2) == std::string("\x05\x00", 2));
      auto rep = c.recv_n(10);
      REQUIRE(rep.size() == 10);
      CHECK(rep[1] == 0);
      auto reader = std::async(std::launch::async, [&] { return c.recv_all(); });
      c.send(payload.substr(1000));
      c.shutdown_write();
      CHECK(reader.get() == payload);
    }
    {
      // HTTP CONNECT is answered the same way.
      REQUIRE(stack.wait_pool(warm));
      Conn c(stack.http);
      c.send("CONNECT 127.0.0.1:" + std::to_string(server.port()) + " HTTP/1.1\r\nHost: x\r\n\r\nhello");
      const std::string ok = c.recv_n(12);
      CHECK(ok == "HTTP/1.1 200");
      std::string rest;
      while (rest.find("hello") == std::string::npos) {
        const std::string more = c.recv_n(1);
        if (more.empty()) break;
        rest += more;
      }
      CHECK(rest.find("\r\n\r\nhello") != std::string::npos);
    }
    CHECK(stack.pool().hits == 3);
  }
}

TEST_CASE("pool: config shapes") {
  std::string error;
  auto c = config::parse_client_config(R"({"pool": {"min": 1, "max": 8, "max_idle_ms": 30000}, "optimistic_reply": true})",
                                       error);
  REQUIRE_MESSAGE(c, error);
  CHECK(c->pool.min == 1);
  CHECK(c->pool.max == 8);
  CHECK(c->pool.max_idle_ms == 30000);
  CHECK(c->optimistic_reply);
  c = config::parse_client_config(R"({"pool": true})", error);
  REQUIRE(c);
  CHECK(c->pool.min == 2);
  CHECK(c->pool.max == 16);
  c = config::parse_client_config(R"({"pool": {}})", error);
  REQUIRE(c);
  CHECK(c->pool.enabled());
  c = config::parse_client_config(R"({"pool": {"max": 0}})", error);
  REQUIRE(c);
  CHECK_FALSE(c->pool.enabled());
  c = config::parse_client_config(R"({"pool": {"min": 0, "max": 0}})", error);
  REQUIRE(c);
  CHECK_FALSE(c->pool.enabled());
  CHECK_FALSE(config::parse_client_config(R"({"pool": {"min": 9, "max": 4}})", error));
  CHECK(error.find("pool.min") != std::string::npos);
  CHECK_FALSE(config::parse_client_config(R"({"pool": {"size": 4}})", error));
  CHECK(error.find("pool.size") != std::string::npos);
  // The config written back keeps the pool.
  c = config::parse_client_config(R"({"pool": {"min": 3, "max": 5}, "optimistic_reply": true})", error);
  REQUIRE(c);
  auto again = config::parse_client_config(config::to_json(*c), error);
  REQUIRE_MESSAGE(again, error);
  CHECK(again->pool.min == 3);
  CHECK(again->pool.max == 5);
  CHECK(again->optimistic_reply);
  auto conc = config::parse_concentrator_config(
      R"({"users_file": "u", "insecure_plaintext": true, "limits": {"pool_idle_ms": 90000}, "tcp_fastopen": true})", error);
  REQUIRE_MESSAGE(conc, error);
  CHECK(conc->limits.pool_idle_ms == 90000);
  CHECK(conc->tcp_fastopen);
  CHECK_FALSE(config::default_concentrator_config().tcp_fastopen);
  CHECK_FALSE(config::default_client_config().tcp_fastopen);
}
