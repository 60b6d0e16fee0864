// The control API without sockets: the request parser the server runs on
// every connection's bytes, the bearer check, and the handlers behind it,
// driven on an engine that is built but not started (no listeners, no
// paths). Answers must be HTTP statuses with JSON bodies.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string_view>

#include <nlohmann/json.hpp>
#include <uv.h>

#include "client/engine.hpp"
#include "control/api.hpp"
#include "control/api_server.hpp"
#include "fuzz_check.hpp"
#include "net/log.hpp"

using namespace braid;

namespace {

struct Fixture {
  uv_loop_t loop;
  std::unique_ptr<client::Engine> engine;
  control::ApiServer::Handler handler;
  Fixture() {
    log::set_level(log::Level::error);
    uv_loop_init(&loop);
    auto cfg = config::default_client_config();
    cfg.control.reset();
    cfg.state_file.clear();
    cfg.manage_endpoints = false;
    // PUT /v1/config writes the config: point it where no file can be made,
    // so the fuzzer exercises the handler without touching the disk.
    engine = std::make_unique<client::Engine>(&loop, cfg, "/proc/braid-fuzz/braid.json");
    handler = control::make_handler(*engine);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture f;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto parsed = control::parse_request(in, control::ApiServer::kMaxHead, control::ApiServer::kMaxBody);
  if (parsed.status == Parse::need_more) return 0;
  control::Response r;
  if (parsed.status == Parse::error) {
    r = parsed.error;
    FUZZ_CHECK(r.status >= 400 && r.status < 500);
  } else {
    FUZZ_CHECK(parsed.request.body.size() <= control::ApiServer::kMaxBody);
    control::bearer_matches(parsed.request.headers["authorization"], "fuzz-token");
    // The server turns a handler's exception into a 500, but only as a
    // safety net: bad input must get a 4xx that says what is wrong.
    try {
      r = f.handler(parsed.request);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "handler threw: %s\n", e.what());
      FUZZ_CHECK(!"a handler threw");
    }
  }
  FUZZ_CHECK(r.status >= 200 && r.status < 600);
  if (r.content_type == "application/json" && !r.stream) FUZZ_CHECK(nlohmann::json::accept(r.body));
  return 0;
}
