// The control API against a real engine on loopback: authentication, request
// validation, resources, the event stream, and killing a connection.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>
#include <uv.h>

#include "client/engine.hpp"
#include "config/config.hpp"
#include "control/api_client.hpp"
#include "net/log.hpp"
#include "socket_util.hpp"
#include "test_util.hpp"

using namespace braid;
using namespace braid::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

class ApiStack {
 public:
  ApiStack() {
    log::set_level(log::Level::warn);
    char tmpl[] = "/tmp/braid-api-XXXXXX";
    dir = ::mkdtemp(tmpl);
    uv_loop_init(&loop_);
    config::ClientConfig c = config::default_client_config();
    c.socks_listen = *parse_host_port("127.0.0.1:0");
    c.http_listen.reset();
    c.control = config::Control{*parse_host_port("127.0.0.1:0"), (dir / "api-token").string()};
    c.state_file = (dir / "state.json").string();
    c.manage_endpoints = false;  // read the system's paths, never change them
    engine_ = std::make_unique<client::Engine>(&loop_, c, (dir / "braid.json").string());
    std::string error;
    REQUIRE_MESSAGE(engine_->start(error), error);
    api = engine_->control_address();
    socks = engine_->listening().front().address.port;
    token = engine_->control_token();
    uv_async_init(&loop_, &stop_, [](uv_async_t* a) {
      static_cast<ApiStack*>(a->data)->engine_->stop([] {});
      uv_close(reinterpret_cast<uv_handle_t*>(a), nullptr);
    });
    stop_.data = this;
    thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
  }
  ~ApiStack() {
    uv_async_send(&stop_);
    thread_.join();
    engine_.reset();
    CHECK(uv_loop_close(&loop_) == 0);
    fs::remove_all(dir);
  }
  control::ClientResponse call(const std::string& method, const std::string& path, const std::string& body = {},
                               const std::string& with_token = "\x01") {
    control::ApiClient client(api, with_token == "\x01" ? token : with_token);
    control::ClientResponse r;
    std::string error;
    REQUIRE_MESSAGE(client.request(method, path, body, r, error), error);
    return r;
  }
  fs::path dir;
  Destination api;
  uint16_t socks = 0;
  std::string token;

 private:
  uv_loop_t loop_;
  uv_async_t stop_;
  std::unique_ptr<client::Engine> engine_;
  std::thread thread_;
};

}  // namespace

TEST_CASE("control: the token is required and kept in a user-only file") {
  ApiStack s;
  CHECK(s.call("GET", "/v1/status", {}, "").status == 401);
  CHECK(s.call("GET", "/v1/status", {}, "wrong").status == 401);
  CHECK(s.call("GET", "/v1/status").status == 200);
  CHECK(s.token.size() == 32);
  const auto perms = fs::status(s.dir / "api-token").permissions();
  CHECK((perms & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
}

TEST_CASE("control: status") {
  ApiStack s;
  auto j = json::parse(s.call("GET", "/v1/status").body);
  CHECK(j["version"].is_string());
  CHECK(j["listening"].size() == 1);
  CHECK(j["listening"][0]["protocol"] == "SOCKS5");
  CHECK(j["concentrator"].is_null());
  CHECK(j["mptcp"].contains("available"));
  CHECK(j["path_control"]["available"] == false);  // manage_endpoints is off here
  CHECK(j["path_control"]["reason"].get<std::string>().find("manage_endpoints") != std::string::npos);
  CHECK(j["path_control"]["policy_settable"] == true);
  CHECK(j["paths"].is_array());
}

TEST_CASE("control: bad requests get 4xx that name the problem") {
  ApiStack s;
  auto r = s.call("GET", "/v1/nope");
  CHECK(r.status == 404);
  CHECK(json::parse(r.body)["error"].get<std::string>().find("/v1/nope") != std::string::npos);
  CHECK(s.call("POST", "/v1/status").status == 405);
  CHECK(s.call("PUT", "/v1/paths/no-such-if0", R"({"policy":"on"})").status == 404);
  CHECK(s.call("PUT", "/v1/mode", R"({"mode":"sideways"})").status == 400);
  CHECK(s.call("PUT", "/v1/mode", "not json").status == 400);
  CHECK(s.call("DELETE", "/v1/connections/abc").status == 400);
  CHECK(s.call("DELETE", "/v1/connections/999").status == 404);
  CHECK(s.call("GET", "/v1/logs?lines=x").status == 400);
  auto paths = json::parse(s.call("GET", "/v1/paths").body);
  if (paths.empty()) {
    MESSAGE("no network interface with an address here; path policy requests not exercised");
    return;
  }
  const std::string name = paths[0]["name"];
  r = s.call("PUT", "/v1/paths/" + name, R"({"policy":"sideways"})");
  CHECK(r.status == 400);
  CHECK(json::parse(r.body)["error"].get<std::string>().find("policy") != std::string::npos);
  CHECK(s.call("PUT", "/v1/paths/" + name, R"({"nopolicy":1})").status == 400);
  // With manage_endpoints off the policy is recorded without touching the kernel.
  r = s.call("PUT", "/v1/paths/" + name, R"({"policy":"backup"})");
  CHECK(r.status == 200);
  CHECK(json::parse(r.body)["policy"] == "backup");
  CHECK(json::parse(s.call("GET", "/v1/mode").body)["mode"] == "custom");
}

TEST_CASE("control: config is validated and written atomically") {
  ApiStack s;
  auto bad = s.call("PUT", "/v1/config", R"({"limits": {"idle_timeout_ms": "soon"}})");
  CHECK(bad.status == 400);
  CHECK(json::parse(bad.body)["error"].get<std::string>().find("limits.idle_timeout_ms") != std::string::npos);
  CHECK_FALSE(fs::exists(s.dir / "braid.json"));
  auto good = s.call("PUT", "/v1/config", R"({"socks": "127.0.0.1:1099", "mode": "failover"})");
  CHECK(good.status == 200);
  CHECK(json::parse(good.body)["restart_required"] == true);
  std::string text, error;
  REQUIRE(config::read_file((s.dir / "braid.json").string(), text, error));
  auto saved = config::parse_client_config(text, error);
  REQUIRE_MESSAGE(saved, error);
  CHECK(saved->socks_listen->port == 1099);
  CHECK(saved->mode == "failover");
  auto current = json::parse(s.call("GET", "/v1/config").body);
  CHECK(current["socks"] == "127.0.0.1:0");  // the running config, until a restart
}

TEST_CASE("control: connections are listed and can be closed") {
  ApiStack s;
  TestServer server(echo);
  Conn c(s.socks);
  c.send(hex("05 01 00"));
  CHECK(c.recv_n(2) == std::string("\x05\x00", 2));
  Bytes req = hex("05 01 00 01 7f 00 00 01");
  req.push_back(static_cast<uint8_t>(server.port() >> 8));
  req.push_back(static_cast<uint8_t>(server.port() & 0xff));
  c.send(req);
  REQUIRE(c.recv_n(10).size() == 10);
  c.send("hi");
  CHECK(c.recv_n(2) == "hi");
  auto list = json::parse(s.call("GET", "/v1/connections").body);
  REQUIRE(list.size() == 1);
  CHECK(list[0]["protocol"] == "socks5");
  CHECK(list[0]["state"] == "relaying");
  CHECK(list[0]["destination"] == "127.0.0.1:" + std::to_string(server.port()));
  CHECK(list[0]["bytes_up"] == 2);
  const auto id = list[0]["id"].get<uint64_t>();
  CHECK(s.call("DELETE", "/v1/connections/" + std::to_string(id)).status == 200);
  CHECK(c.recv_all().empty());
  CHECK(c.closed());
}

TEST_CASE("control: the traffic stream sends an event a second; logs are readable") {
  ApiStack s;
  control::ApiClient client(s.api, s.token);
  int events = 0;
  std::string error;
  CHECK(client.stream(
      "/v1/traffic",
      [&](const std::string& data) {
        auto j = json::parse(data);
        CHECK(j["type"] == "traffic");
        CHECK(j.contains("paths"));
        return ++events < 3;
      },
      error, 10));
  CHECK(events == 3);
  auto logs = json::parse(s.call("GET", "/v1/logs?lines=5").body);
  CHECK(logs["lines"].is_array());
  CHECK(logs["lines"].size() <= 5);
}

TEST_CASE("control: request parsing without sockets, and error bodies for any bytes") {
  auto more = control::parse_request("GET /v1/status HTTP/1.1\r\n", control::ApiServer::kMaxHead, 10);
  CHECK(more.status == Parse::need_more);
  auto waiting = control::parse_request("PUT /v1/mode HTTP/1.1\r\nContent-Length: 4\r\n\r\n{}", 1024, 10);
  CHECK(waiting.status == Parse::need_more);
  auto done = control::parse_request("PUT /v1/mode?x=1 HTTP/1.1\r\nAuthorization: Bearer t\r\nContent-Length: 2\r\n\r\n{}",
                                     1024, 10);
  REQUIRE(done.status == Parse::done);
  CHECK(done.request.path == "/v1/mode");
  CHECK(done.request.param("x") == "1");
  CHECK(done.request.body == "{}");
  CHECK(control::bearer_matches(done.request.headers["authorization"], "t"));
  CHECK_FALSE(control::bearer_matches(done.request.headers["authorization"], "u"));
  auto big = control::parse_request("PUT / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", 1024, 10);
  REQUIRE(big.status == Parse::error);
  CHECK(big.error.status == 413);
  // A path that is not UTF-8 is quoted in the message; the body stays JSON (fuzz finding).
  auto r = control::error_response(404, "no resource /C\x9b!");
  CHECK(json::accept(r.body));
}
