// The client engine and the concentrator together on loopback, driven by
// plain blocking sockets the way an application would: SOCKS5 and HTTP
// answers, auth, half-close both ways, large transfers with backpressure,
// and bad input that must not disturb other sessions.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <future>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <uv.h>

#include "client/engine.hpp"
#include "concentrator/server.hpp"
#include "concentrator/users.hpp"
#include "net/tls_identity.hpp"
#include "net/log.hpp"
#include "socks5/codec.hpp"
#include "proxy_stack.hpp"
#include "socket_util.hpp"
#include "test_util.hpp"

using namespace braid;
using braid::test::hex;
using namespace braid::test;

TEST_CASE("proxy: SOCKS5 CONNECT through the concentrator echoes bytes intact and passes half-close on") {
  TestServer server(echo);
  for (bool via_concentrator : {true, false}) {
    CAPTURE(via_concentrator);
    Stack stack({}, via_concentrator);
    Conn c(stack.socks);
    REQUIRE(socks_open(c, server.port()) == socks5::kSucceeded);
    const std::string payload = random_bytes(3 << 20);
    // Send everything, then half-close; the echo comes back whole and then EOF.
    auto reader = std::async(std::launch::async, [&] { return c.recv_all(); });
    c.send(payload);
    c.shutdown_write();
    CHECK(reader.get() == payload);
  }
}

TEST_CASE("proxy: the server half-closes first and the client can still send") {
  // The server sends a greeting, half-closes, then reads until EOF and
  // reports the byte count it got in a second connection-independent way.
  std::promise<size_t> got;
  TestServer server([&](int fd) {
    ::send(fd, "hello", 5, MSG_NOSIGNAL);
    ::shutdown(fd, SHUT_WR);
    size_t total = 0;
    char buf[65536];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) total += static_cast<size_t>(n);
    got.set_value(total);
  });
  Stack stack;
  Conn c(stack.socks);
  REQUIRE(socks_open(c, server.port()) == socks5::kSucceeded);
  CHECK(c.recv_all() == "hello");  // EOF arrived after the greeting
  c.send(std::string(100000, 'x'));
  c.shutdown_write();
  auto f = got.get_future();
  REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(f.get() == 100000);
}

TEST_CASE("proxy: a slow reader gets every byte (backpressure, not loss)") {
  const std::string payload = random_bytes(8 << 20);
  TestServer server([&](int fd) {
    size_t off = 0;
    while (off < payload.size()) {
      ssize_t n = ::send(fd, payload.data() + off, std::min<size_t>(1 << 16, payload.size() - off), MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
  });
  Stack stack([](config::ClientConfig& c) { c.limits.buffer_bytes = 64 * 1024; });
  Conn c(stack.socks);
  REQUIRE(socks_open(c, server.port()) == socks5::kSucceeded);
  std::string got;
  char buf[4096];
  for (int i = 0; i < 20; ++i) {  // dawdle at first so the queues fill up
    ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n > 0) got.append(buf, static_cast<size_t>(n));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  got += c.recv_all();
  CHECK(got.size() == payload.size());
  CHECK(got == payload);
}

TEST_CASE("proxy: SOCKS5 failures come back as the right REP code") {
  Stack stack;
  SUBCASE("connection refused") {
    Conn c(stack.socks);
    CHECK(socks_open(c, closed_port()) == socks5::kConnectionRefused);
  }
  SUBCASE("unresolvable name: host unreachable") {
    Conn c(stack.socks);
    c.send(hex("05 01 00"));
    c.recv_n(2);
    c.send(hex("05 01 00 03 0f 6e 6f 2d 73 75 63 68 2e 69 6e 76 61 6c 69 64 00 50"));  // no-such.invalid
    auto rep = c.recv_n(10);
    REQUIRE(rep.size() >= 2);
    CHECK(static_cast<uint8_t>(rep[1]) == socks5::kHostUnreachable);
  }
  SUBCASE("BIND: command not supported") {
    Conn c(stack.socks);
    c.send(hex("05 01 00"));
    c.recv_n(2);
    c.send(hex("05 02 00 01 7f 00 00 01 00 50"));
    CHECK(c.recv_n(10) == std::string("\x05\x07\x00\x01\0\0\0\0\0\0", 10));
  }
  SUBCASE("unknown address type") {
    Conn c(stack.socks);
    c.send(hex("05 01 00"));
    c.recv_n(2);
    c.send(hex("05 01 00 07 00 00"));
    auto rep = c.recv_n(10);
    REQUIRE(rep.size() >= 2);
    CHECK(static_cast<uint8_t>(rep[1]) == socks5::kAddressTypeNotSupported);
  }
  SUBCASE("a client offering only GSSAPI gets 0xFF") {
    Conn c(stack.socks);
    c.send(hex("05 01 01"));
    CHECK(c.recv_n(2) == "\x05\xff");
    CHECK(c.recv_all().empty());
    CHECK(c.closed());
  }
}

TEST_CASE("proxy: a wrong concentrator token is 'not allowed'") {
  TestServer server(echo);
  Stack stack({}, true, "wrong-token");
  Conn c(stack.socks);
  CHECK(socks_open(c, server.port()) == socks5::kNotAllowed);
}

TEST_CASE("proxy: an unknown user is 'not allowed'") {
  TestServer server(echo);
  Stack stack([](config::ClientConfig& c) { c.concentrator->user = "mallory"; });
  Conn c(stack.socks);
  CHECK(socks_open(c, server.port()) == socks5::kNotAllowed);
}

TEST_CASE("proxy: a concentrator whose key does not match the pinned fingerprint gets no request") {
  TestServer server(echo);
  Stack stack([](config::ClientConfig& c) {
    c.concentrator->fingerprint = "sha256:" + std::string(64, 'a');
  });
  log::set_level(log::Level::info);
  Conn c(stack.socks);
  CHECK(socks_open(c, server.port()) == socks5::kGeneralFailure);
  bool explained = false;
  for (const auto& line : log::recent(20))
    explained |= line.find("does not match the pinned fingerprint") != std::string::npos;
  CHECK(explained);
  log::set_level(log::Level::warn);
}

TEST_CASE("proxy: plaintext mode (insecure_plaintext on both ends) still relays") {
  TestServer server(echo);
  Stack stack({}, true, "s3cret", Channel::plaintext);
  Conn c(stack.socks);
  REQUIRE(socks_open(c, server.port()) == socks5::kSucceeded);
  c.send("clear");
  CHECK(c.recv_n(5) == "clear");
}

TEST_CASE("proxy: SOCKS5 username/password") {
  TestServer server(echo);
  Stack stack([](config::ClientConfig& c) { c.auth = config::Credentials{"user", "pass"}; });
  SUBCASE("no-auth only is refused") {
    Conn c(stack.socks);
    c.send(hex("05 01 00"));
    CHECK(c.recv_n(2) == "\x05\xff");
  }
  SUBCASE("wrong password") {
    Conn c(stack.socks);
    c.send(hex("05 02 00 02"));
    CHECK(c.recv_n(2) == "\x05\x02");
    c.send(hex("01 04 75 73 65 72 04 6e 6f 70 65"));
    CHECK(c.recv_n(2) == std::string("\x01\x01", 2));
    CHECK(c.recv_all().empty());
    CHECK(c.closed());
  }
  SUBCASE("right password") {
    Conn c(stack.socks);
    c.send(hex("05 02 00 02"));
    CHECK(c.recv_n(2) == "\x05\x02");
    c.send(hex("01 04 75 73 65 72 04 70 61 73 73"));
    CHECK(c.recv_n(2) == std::string("\x01\x00", 2));
    c.send(socks_connect(server.port()));
    auto rep = c.recv_n(10);
    REQUIRE(rep.size() == 10);
    CHECK(rep[1] == 0);
    c.send("ping");
    CHECK(c.recv_n(4) == "ping");
  }
  SUBCASE("HTTP without credentials gets 407, with them it works") {
    Conn c(stack.http);
    c.send("CONNECT 127.0.0.1:" + std::to_string(server.port()) + " HTTP/1.1\r\n\r\n");
    auto r = c.recv_all();
    CHECK(r.rfind("HTTP/1.1 407", 0) == 0);
    CHECK(r.find("Proxy-Authenticate: Basic") != std::string::npos);
    Conn ok(stack.http);
    ok.send("CONNECT 127.0.0.1:" + std::to_string(server.port()) +
            " HTTP/1.1\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\n");
    CHECK(ok.recv_n(39) == "HTTP/1.1 200 Connection established\r\n\r\n");
    ok.send("ping");
    CHECK(ok.recv_n(4) == "ping");
  }
}

TEST_CASE("proxy: HTTP front end") {
  // An origin that answers every request with its own request line.
  TestServer origin([](int fd) {
    std::string req;
    char buf[4096];
    while (req.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      req.append(buf, static_cast<size_t>(n));
    }
    const std::string line = req.substr(0, req.find("\r\n"));
    const std::string body = line + "|" + (req.find("Proxy-Connection") == std::string::npos ? "clean" : "dirty");
    // Keep-alive as far as the origin is concerned; braid must still tell
    // its client the connection closes.
    const std::string resp = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                             "\r\nKeep-Alive: timeout=5\r\n\r\n" + body;
    ::send(fd, resp.data(), resp.size(), MSG_NOSIGNAL);
  });
  Stack stack;
  const std::string where = "127.0.0.1:" + std::to_string(origin.port());
  SUBCASE("absolute-form GET is forwarded in origin-form without hop-by-hop headers") {
    for (uint16_t port : {stack.http, stack.mixed}) {
      Conn c(port);
      c.send("GET http://" + where + "/x?y=1 HTTP/1.1\r\nHost: " + where + "\r\nProxy-Connection: keep-alive\r\n\r\n");
      auto r = c.recv_all();
      CHECK(r.rfind("HTTP/1.1 200 OK", 0) == 0);
      CHECK(r.find("GET /x?y=1 HTTP/1.1|clean") != std::string::npos);
      CHECK(r.find("Connection: close\r\n") != std::string::npos);
      CHECK(r.find("Keep-Alive") == std::string::npos);
    }
  }
  SUBCASE("CONNECT then bytes") {
    Conn c(stack.http);
    c.send("CONNECT " + where + " HTTP/1.1\r\nHost: " + where + "\r\n\r\nGET /in-tunnel HTTP/1.1\r\n\r\n");
    auto r = c.recv_all();
    CHECK(r.rfind("HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 200 OK", 0) == 0);
    CHECK(r.find("GET /in-tunnel HTTP/1.1|clean") != std::string::npos);
  }
  SUBCASE("refused upstream: 502") {
    Conn c(stack.http);
    c.send("GET http://127.0.0.1:" + std::to_string(closed_port()) + "/ HTTP/1.1\r\n\r\n");
    CHECK(c.recv_all().rfind("HTTP/1.1 502 Bad Gateway", 0) == 0);
  }
  SUBCASE("malformed: 400, and the proxy keeps serving") {
    Conn bad(stack.http);
    bad.send("BLAH\x01\x02\r\n\r\n");
    CHECK(bad.recv_all().rfind("HTTP/1.1 400", 0) == 0);
    Conn good(stack.http);
    good.send("GET http://" + where + "/ HTTP/1.1\r\n\r\n");
    CHECK(good.recv_all().find("200 OK") != std::string::npos);
  }
  SUBCASE("the mixed port also speaks SOCKS5") {
    TestServer e(echo);
    Conn c(stack.mixed);
    REQUIRE(socks_open(c, e.port()) == socks5::kSucceeded);
    c.send("mixed");
    CHECK(c.recv_n(5) == "mixed");
  }
}

TEST_CASE("proxy: bad input at the concentrator gets a status, other sessions go on") {
  // Raw headers need the plaintext channel (insecure_plaintext); over TLS
  // the same decoder runs on the decrypted bytes.
  TestServer server(echo);
  Stack stack({}, true, "s3cret", Channel::plaintext);
  Conn live(stack.socks);
  REQUIRE(socks_open(live, server.port()) == socks5::kSucceeded);
  auto status_of = [&](const Bytes& header) {
    Conn raw(stack.concentrator());
    raw.send(header);
    auto reply = raw.recv_all();  // the concentrator answers, then closes
    return reply.size() >= 2 && reply[0] == 2 ? static_cast<int>(static_cast<uint8_t>(reply[1])) : -1;
  };
  // "alice" = 61 6c 69 63 65, "s3cret" = 73 33 63 72 65 74
  CHECK(status_of(hex("03 01 00 01 74")) == 0x10);                                            // unknown version
  CHECK(status_of(hex("02 01 00 05 61 6c 69 63 65 03 62 61 64 01 7f 00 00 01 00 50")) == 0x11);  // wrong token
  CHECK(status_of(hex("02 01 00 03 62 6f 62 06 73 33 63 72 65 74 01 7f 00 00 01 00 50")) == 0x11);  // no such user
  CHECK(status_of(hex("02 01 09 01 74")) == 0x12);                                            // FLAGS set
  CHECK(status_of(hex("02 01 00 05 61 6c 69 63 65 06 73 33 63 72 65 74 09 00")) == 0x08);     // bad ATYP
  {
    // Datagram kind: the scheduler (and, in plaintext, the key) follows; an
    // unknown scheduler is malformed.
    Bytes h = hex("02 03 00 05 61 6c 69 63 65 06 73 33 63 72 65 74 01 00 00 00 00 00 00");
    h.push_back(7);
    h.insert(h.end(), 32, 0xAB);
    CHECK(status_of(h) == 0x12);
  }
  CHECK(status_of(hex("02 09 00 05 61 6c 69 63 65 06 73 33 63 72 65 74 01 7f 00 00 01 00 50")) == 0x07);  // unknown kind
  {
    // 1 MiB of garbage: rejected at the first byte, nothing buffered.
    Conn raw(stack.concentrator());
    Bytes junk(1 << 20, 0xEE);
    ::send(raw.fd, junk.data(), junk.size(), MSG_NOSIGNAL);
    auto reply = raw.recv_all();
    REQUIRE(reply.size() >= 2);
    CHECK(static_cast<uint8_t>(reply[1]) == 0x10);
  }
  {
    // Truncated, then the client goes away.
    Conn raw(stack.concentrator());
    raw.send(hex("02 01 00 05 61 6c"));
  }
  // The right header with early data: the echo comes back after the reply.
  {
    Conn raw(stack.concentrator());
    Bytes h = hex("02 01 00 05 61 6c 69 63 65 06 73 33 63 72 65 74 01 7f 00 00 01");
    h.push_back(static_cast<uint8_t>(server.port() >> 8));
    h.push_back(static_cast<uint8_t>(server.port() & 0xff));
    for (char ch : std::string("early")) h.push_back(static_cast<uint8_t>(ch));
    raw.send(h);
    auto reply = raw.recv_n(9 + 5);
    REQUIRE(reply.size() == 14);
    CHECK(reply[1] == 0);
    CHECK(reply.substr(9) == "early");
  }
  live.send("still here");
  CHECK(live.recv_n(10) == "still here");
}

TEST_CASE("proxy: the connection limit refuses extra clients and keeps the others") {
  TestServer server(echo);
  Stack stack([](config::ClientConfig& c) { c.limits.max_connections = 2; });
  Conn a(stack.socks), b(stack.socks);
  REQUIRE(socks_open(a, server.port()) == socks5::kSucceeded);
  REQUIRE(socks_open(b, server.port()) == socks5::kSucceeded);
  Conn c(stack.socks);
  CHECK(c.recv_all().empty());
  CHECK(c.closed());  // closed at once, not left hanging
  a.send("a");
  CHECK(a.recv_n(1) == "a");
}

TEST_CASE("proxy: SOCKS5 CONNECT to an IPv6 destination") {
  int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_addr = in6addr_loopback;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sin6), sizeof sin6) != 0) {
    ::close(fd);
    MESSAGE("no IPv6 loopback here; skipping the IPv6 case");
    return;
  }
  ::listen(fd, 4);
  socklen_t len = sizeof sin6;
  getsockname(fd, reinterpret_cast<sockaddr*>(&sin6), &len);
  const uint16_t port = ntohs(sin6.sin6_port);
  std::thread t([fd] {
    int c = ::accept(fd, nullptr, nullptr);
    if (c >= 0) {
      echo(c);
      ::close(c);
    }
  });
  {
    Stack stack;
    Conn c(stack.socks);
    c.send(hex("05 01 00"));
    CHECK(c.recv_n(2) == std::string("\x05\x00", 2));
    Bytes req = hex("05 01 00 04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01");
    req.push_back(static_cast<uint8_t>(port >> 8));
    req.push_back(static_cast<uint8_t>(port & 0xff));
    c.send(req);
    auto rep = c.recv_n(4);
    REQUIRE(rep.size() == 4);
    CHECK(rep[1] == 0);
    // BND.ADDR is the concentrator's IPv6 address towards the destination.
    CHECK(rep[3] == 4);
    CHECK(c.recv_n(18).size() == 18);
    c.send("six");
    CHECK(c.recv_n(3) == "six");
  }
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
  t.join();
}

TEST_CASE("proxy: a client that never finishes its handshake is closed by the handshake timeout") {
  Stack stack([](config::ClientConfig& c) { c.limits.handshake_timeout_ms = 200; });
  Conn c(stack.socks);
  c.send(hex("05 01"));       // half a greeting, then silence
  CHECK(c.recv_all().empty());
  CHECK(c.closed());  // closed by braid, not our 10 s receive timeout
}

TEST_CASE("proxy: an idle relayed connection is closed by the idle timeout") {
  TestServer server(echo);
  Stack stack([](config::ClientConfig& c) { c.limits.idle_timeout_ms = 1000; });
  Conn c(stack.socks);
  REQUIRE(socks_open(c, server.port()) == socks5::kSucceeded);
  c.send("x");
  CHECK(c.recv_n(1) == "x");
  CHECK(c.recv_all().empty());
  CHECK(c.closed());  // EOF after a second of silence, not our 10 s receive timeout
}

namespace {

// A UDP echo server on loopback that answers "echo:" + payload.
class UdpEcho {
 public:
  UdpEcho() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
    socklen_t len = sizeof sin;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&sin), &len);
    port_ = ntohs(sin.sin_port);
    timeval tv{0, 200000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    thread_ = std::thread([this] {
      char buf[65536];
      while (!stop_) {
        sockaddr_storage from{};
        socklen_t fl = sizeof from;
        ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fl);
        if (n <= 0) continue;
        std::string reply = "echo:" + std::string(buf, static_cast<size_t>(n));
        ::sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), fl);
      }
    });
  }
  ~UdpEcho() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }

 private:
  int fd_;
  uint16_t port_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

struct UdpClient {
  int fd;
  UdpClient() {
    fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    timeval tv{0, 700000};  // loopback answers in well under a millisecond
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
  }
  ~UdpClient() { ::close(fd); }
  void send_to(uint16_t port, const Bytes& b) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::sendto(fd, b.data(), b.size(), 0, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
  }
  std::string recv() {
    char buf[65536];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }
};

Bytes udp_packet(uint8_t frag, uint16_t port, const std::string& payload) {
  Bytes b = hex("00 00");
  b.push_back(frag);
  for (auto x : hex("01 7f 00 00 01")) b.push_back(x);
  b.push_back(static_cast<uint8_t>(port >> 8));
  b.push_back(static_cast<uint8_t>(port & 0xff));
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

}  // namespace

TEST_CASE("proxy: SOCKS5 UDP ASSOCIATE round trip, framed and direct") {
  UdpEcho echo_server;
  for (bool via_concentrator : {true, false}) {
    CAPTURE(via_concentrator);
    Stack stack({}, via_concentrator);
    Conn control(stack.socks);
    control.send(hex("05 01 00"));
    REQUIRE(control.recv_n(2) == std::string("\x05\x00", 2));
    // PySocks-style request: domain "0" with a port.
    control.send(hex("05 03 00 03 01 30 00 00"));
    auto rep = control.recv_n(10);
    REQUIRE(rep.size() == 10);
    REQUIRE(rep[1] == 0);
    // BND.ADDR is the address we reached braid at, never 0.0.0.0.
    CHECK(rep.substr(3, 5) == std::string("\x01\x7f\x00\x00\x01", 5));
    const uint16_t relay = static_cast<uint16_t>(static_cast<uint8_t>(rep[8]) << 8 | static_cast<uint8_t>(rep[9]));
    UdpClient app;
    for (int i = 0; i < 5; ++i) {
      const std::string payload = "datagram-" + std::to_string(i);
      app.send_to(relay, udp_packet(0, echo_server.port(), payload));
      auto got = app.recv();
      REQUIRE(got.size() > 10);
      // The reply names its real source: the echo server's address and port.
      CHECK(got.substr(0, 10) == std::string(reinterpret_cast<const char*>(udp_packet(0, echo_server.port(), "").data()), 10));
      CHECK(got.substr(10) == "echo:" + payload);
    }
    // Fragments are dropped, and so is anything from another source port.
    app.send_to(relay, udp_packet(1, echo_server.port(), "fragment"));
    CHECK(app.recv().empty());
    UdpClient other;
    other.send_to(relay, udp_packet(0, echo_server.port(), "intruder"));
    CHECK(other.recv().empty());
    // The association still works, then ends with its control connection.
    app.send_to(relay, udp_packet(0, echo_server.port(), "last"));
    CHECK(app.recv().substr(10) == "echo:last");
  }
}

TEST_CASE("proxy: UDP over the multipath datagram carrier, authenticated, with probes") {
  UdpEcho echo_server;
  for (const char* scheduler : {"redundant", "lowest-rtt", "weighted"}) {
    CAPTURE(scheduler);
    const std::string sched = scheduler;
    {
      Stack stack([&](config::ClientConfig& c) {
        c.udp.carrier = "datagram";
        c.udp.scheduler = sched;
        c.udp.rules.clear();
        c.log_level = "info";
      });
      log::set_level(log::Level::info);
      Conn control(stack.socks);
      control.send(hex("05 01 00"));
      REQUIRE(control.recv_n(2) == std::string("\x05\x00", 2));
      control.send(hex("05 03 00 01 00 00 00 00 00 00"));
      auto rep = control.recv_n(10);
      REQUIRE(rep.size() == 10);
      REQUIRE(rep[1] == 0);
      const uint16_t relay = static_cast<uint16_t>(static_cast<uint8_t>(rep[8]) << 8 | static_cast<uint8_t>(rep[9]));
      // Datagrams go framed until a probe has been answered on some path
      // (one loopback round trip); give the first probe that moment so all
      // 20 take the datagram carrier.
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      UdpClient app;
      for (int i = 0; i < 20; ++i) {
        const std::string payload = "dg-" + std::to_string(i);
        app.send_to(relay, udp_packet(0, echo_server.port(), payload));
        auto got = app.recv();
        REQUIRE(got.size() > 10);
        CHECK(got.substr(10) == "echo:" + payload);
      }
    }
    log::set_level(log::Level::warn);
    // The client's closing report proves the datagrams took the datagram
    // carrier (not framed), and that nothing was rejected.
    bool found = false;
    for (const auto& line : log::recent(50)) {
      if (line.find("datagram carrier (association") == std::string::npos) continue;
      found = true;
      CHECK(line.find(": 20 sent, 20 received") != std::string::npos);
      CHECK(line.find(" 0 rejected") != std::string::npos);
    }
    CHECK(found);
  }
}

TEST_CASE("proxy: bytes sent before the concentrator's reply are not lost") {
  // A destination whose TCP handshake completes only after a retransmitted
  // SYN (its accept queue is full at first), so the application's early
  // bytes arrive while braid waits for the concentrator's reply.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0);
  REQUIRE(::listen(fd, 0) == 0);
  socklen_t len = sizeof sin;
  getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  const uint16_t port = ntohs(sin.sin_port);
  Conn filler(port);  // occupies the accept queue
  Stack stack;
  std::thread server([fd] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    int first = ::accept(fd, nullptr, nullptr);  // frees the queue; the retried SYN gets in
    int c = ::accept(fd, nullptr, nullptr);
    if (c >= 0) {
      echo(c);
      ::close(c);
    }
    if (first >= 0) ::close(first);
  });
  Conn c(stack.socks);
  c.send(hex("05 01 00"));
  REQUIRE(c.recv_n(2) == std::string("\x05\x00", 2));
  c.send(socks_connect(port));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the request is out; no reply yet
  c.send("early bytes");
  c.shutdown_write();
  auto rep = c.recv_n(10);
  REQUIRE(rep.size() == 10);
  CHECK(rep[1] == 0);
  CHECK(c.recv_all() == "early bytes");
  server.join();
  ::close(fd);
}

TEST_CASE("proxy: the concentrator refuses destinations its policy does not allow (REP 2, HTTP 502)") {
  // The stack allows loopback (its test servers live there) but not 0.0.0.0,
  // which the kernel would connect to loopback, nor link-local or [::].
  TestServer server(echo);
  Stack stack;
  char port[8];
  std::snprintf(port, sizeof port, " %02x %02x", server.port() >> 8, server.port() & 0xff);
  for (const std::string& dst : {std::string("01 00 00 00 00"), std::string("01 a9 fe a9 fe"),
                                 std::string("04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"),
                                 std::string("04 00 00 00 00 00 00 00 00 00 00 ff ff 00 00 00 00")}) {
    CAPTURE(dst);
    Conn c(stack.socks);
    c.send(hex("05 01 00"));
    REQUIRE(c.recv_n(2) == std::string("\x05\x00", 2));
    c.send(hex("05 01 00 " + dst + port));
    auto rep = c.recv_n(10);
    REQUIRE(rep.size() >= 2);
    CHECK(static_cast<uint8_t>(rep[1]) == socks5::kNotAllowed);
  }
  Conn h(stack.http);
  h.send("CONNECT 0.0.0.0:" + std::to_string(server.port()) + " HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(h.recv_all().rfind("HTTP/1.1 502", 0) == 0);
}
