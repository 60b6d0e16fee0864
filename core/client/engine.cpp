#include "client/engine.hpp"

#include <unistd.h>

#include "braid/platform.hpp"
#include "client/client_session.hpp"
#include "net/log.hpp"

namespace braid::client {

const char* frontend_name(Frontend f) {
  switch (f) {
    case Frontend::socks5: return "SOCKS5";
    case Frontend::http: return "HTTP";
    case Frontend::mixed: return "SOCKS5+HTTP";
  }
  return "?";
}

Engine::Engine(uv_loop_t* loop, config::ClientConfig cfg) : loop_(loop), cfg_(std::move(cfg)) {}

Engine::~Engine() = default;

bool Engine::start(std::string& error) {
  // Probe once whether MPTCP sockets can be made, so `braid up` can say so.
  platform::StreamSocket probe;
  if (platform::open_stream_socket(AF_INET, true, probe) == 0) {
    mptcp_error_ = probe.mptcp_error;
    ::close(probe.fd);
  }
  const std::pair<const std::optional<Destination>*, Frontend> wanted[] = {
      {&cfg_.socks_listen, Frontend::socks5}, {&cfg_.http_listen, Frontend::http}, {&cfg_.mixed_listen, Frontend::mixed}};
  for (const auto& [addr, frontend] : wanted) {
    if (!*addr) continue;
    auto l = std::make_unique<net::Listener>(loop_);
    const Frontend f = frontend;
    // Local applications speak plain TCP to us; MPTCP is for the upstream.
    if (l->listen(**addr, false, [this, f](uv_stream_t* server) { on_accept(server, f); }, error) < 0) {
      error = std::string(frontend_name(frontend)) + " listener: " + error;
      return false;
    }
    listeners_.push_back({frontend, std::move(l)});
  }
  return true;
}

void Engine::on_accept(uv_stream_t* server, Frontend f) {
  const bool full = sessions_.size() >= cfg_.limits.max_connections;
  auto* s = sessions_.accept(server, [&](uint64_t id) {
    return std::make_unique<ClientSession>(loop_, id, cfg_, f, sessions_);
  });
  if (!s) return;
  if (full) {
    BRAID_LOG(warn, "connection limit reached (%u); refusing a new %s client (limits.max_connections)",
              cfg_.limits.max_connections, frontend_name(f));
    s->close("connection limit reached");
    return;
  }
  s->start();
}

std::vector<Engine::Listening> Engine::listening() const {
  std::vector<Listening> out;
  for (const auto& b : listeners_) out.push_back({b.frontend, b.listener->bound()});
  return out;
}

void Engine::stop(std::function<void()> done) {
  for (auto& b : listeners_) b.listener->close();
  sessions_.close_all("braid is shutting down", std::move(done));
}

}  // namespace braid::client
