// The concentrator's guard wired into its sessions, driven over the wire
// protocol in plaintext (insecure_plaintext) with blocking sockets: the
// per-user connection limit leaves other users alone and frees its slots,
// the destination policy answers "not allowed", malformed headers are
// counted.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <thread>

#include <uv.h>

#include "concentrator/server.hpp"
#include "concentrator/users.hpp"
#include "net/log.hpp"
#include "socket_util.hpp"
#include "tunnel/wire.hpp"

using namespace braid;
using namespace braid::test;

namespace {

// A concentrator alone on a loop thread; users alice and bob.
class Concentrator {
 public:
  explicit Concentrator(uint32_t per_user) {
    log::set_level(std::getenv("BRAID_TEST_LOG") ? log::Level::debug : log::Level::warn);
    uv_loop_init(&loop_);
    char dir[] = "/tmp/braid-guard-test.XXXXXX";
    REQUIRE(::mkdtemp(dir));
    dir_ = dir;
    concentrator::Users users;
    users.set("alice", "a");
    users.set("bob", "b");
    std::string error;
    REQUIRE(config::write_file_atomic(dir_ + "/users.json", users.to_json(), 0600, error));
    config::ConcentratorConfig cc = config::default_concentrator_config();
    cc.listen = *parse_host_port("127.0.0.1:0");
    cc.users_file = dir_ + "/users.json";
    cc.insecure_plaintext = true;
    cc.mptcp_subflows = 0;
    cc.limits.max_connections_per_user = per_user;
    cc.destinations.allow.push_back(*net::AddressRule::parse("127.0.0.1"));
    server_ = std::make_unique<concentrator::Server>(&loop_, cc);
    REQUIRE_MESSAGE(server_->start(error), error);
    uv_async_init(&loop_, &stop_, [](uv_async_t* a) {
      static_cast<Concentrator*>(a->data)->server_->stop([] {});
      uv_close(reinterpret_cast<uv_handle_t*>(a), nullptr);
    });
    stop_.data = this;
    thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
  }
  ~Concentrator() { stop(); }
  /// Stops the concentrator (once) and returns its refusal counters.
  std::string stop() {
    if (server_) {
      uv_async_send(&stop_);
      thread_.join();
      refusals_ = server_->guard().summary();
      server_.reset();
      CHECK(uv_loop_close(&loop_) == 0);
      std::string cmd = "rm -rf " + dir_;
      CHECK(std::system(cmd.c_str()) == 0);
    }
    return refusals_;
  }
  uint16_t port() const { return server_->bound().port; }

 private:
  std::string refusals_;
  uv_loop_t loop_;
  uv_async_t stop_;
  std::string dir_;
  std::unique_ptr<concentrator::Server> server_;
  std::thread thread_;
};

// Sends a TCP-stream request for 127.0.0.1:port (or @p host) as @p user and
// returns the reply's status, or -1 when the connection closed without one.
int request(Conn& c, const std::string& user, const std::string& token, uint16_t port,
            const char* host = "127.0.0.1") {
  wire::Request r;
  r.user = user;
  r.token = token;
  r.destination = *make_destination(host, port);
  Bytes out;
  wire::encode_request(r, out);
  c.send(out);
  const std::string head = c.recv_n(3);
  if (head.size() < 3) return -1;
  c.recv_n(head[2] == 4 ? 18 : 6);  // BND.ADDR and BND.PORT
  return static_cast<uint8_t>(head[1]);
}

}  // namespace

TEST_CASE("concentrator: a user at the per-user limit is refused, other users are not, slots come back") {
  TestServer echo_server(echo);
  Concentrator conc(2);
  Conn a1(conc.port()), a2(conc.port());
  CHECK(request(a1, "alice", "a", echo_server.port()) == wire::kOk);
  CHECK(request(a2, "alice", "a", echo_server.port()) == wire::kOk);
  {
    Conn a3(conc.port());
    CHECK(request(a3, "alice", "a", echo_server.port()) == wire::kBusy);
  }
  Conn b1(conc.port());
  CHECK(request(b1, "bob", "b", echo_server.port()) == wire::kOk);
  b1.send(std::string("ping"));
  CHECK(b1.recv_n(4) == "ping");
  // One of alice's connections ends: her next one is admitted.
  a1.shutdown_write();
  a1.recv_all();
  bool admitted = false;
  for (int i = 0; i < 50 && !admitted; ++i) {
    Conn a4(conc.port());
    admitted = request(a4, "alice", "a", echo_server.port()) == wire::kOk;
    if (!admitted) usleep(20000);
  }
  CHECK(admitted);
}

TEST_CASE("concentrator: refused destinations and malformed headers are answered and counted") {
  TestServer echo_server(echo);
  Concentrator conc(8);
  {
    for (std::string host : {"0.0.0.0", "127.0.0.2", "169.254.169.254", "::1", "::ffff:10.0.0.1", "::ffff:0.0.0.0"}) {
      CAPTURE(host);
      Conn c(conc.port());
      CHECK(request(c, "alice", "a", echo_server.port(), host.c_str()) == wire::kNotAllowed);
    }
    Conn ok(conc.port());
    CHECK(request(ok, "alice", "a", echo_server.port()) == wire::kOk);
    // A name is checked after resolution, address by address: "localhost"
    // may also resolve to ::1 (refused here), but 127.0.0.1 is allowed.
    Conn name(conc.port());
    const int status = request(name, "alice", "a", echo_server.port(), "localhost");
    if (status == wire::kHostUnreachable)
      MESSAGE("localhost does not resolve here (AI_ADDRCONFIG without a network?): not checked");
    else
      CHECK(status == wire::kOk);
    Conn bad(conc.port());
    bad.send(Bytes{wire::kVersion, 0x01, 0x07, 0x01, 'a'});  // FLAGS != 0
    const std::string reply = bad.recv_all();
    REQUIRE(reply.size() >= 2);
    CHECK(static_cast<uint8_t>(reply[1]) == wire::kMalformed);
  }
  const std::string summary = conc.stop();
  CHECK(summary.find("6 connections to destinations not allowed") != std::string::npos);
  CHECK(summary.find("1 malformed requests") != std::string::npos);
}
