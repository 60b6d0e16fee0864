#include "client/engine.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <openssl/rand.h>

#include "braid/platform.hpp"
#include "control/api.hpp"
#include "net/errors.hpp"
#include "net/log.hpp"

namespace braid::client {

namespace {
constexpr uint64_t kSaveEverySeconds = 60;
}  // namespace

const char* frontend_name(Frontend f) {
  switch (f) {
    case Frontend::socks5: return "SOCKS5";
    case Frontend::http: return "HTTP";
    case Frontend::mixed: return "SOCKS5+HTTP";
  }
  return "?";
}

Engine::Engine(uv_loop_t* loop, config::ClientConfig cfg, std::string config_path)
    : loop_(loop), cfg_(std::move(cfg)), config_path_(std::move(config_path)) {}

Engine::~Engine() = default;

bool Engine::start(std::string& error) {
  started_ms_ = uv_now(loop_);
  if (cfg_.concentrator && !cfg_.concentrator->insecure_plaintext) {
    net::TlsClientOptions o;
    if (!cfg_.concentrator->fingerprint.empty()) o.pin = net::parse_fingerprint(cfg_.concentrator->fingerprint);
    o.ca_file = cfg_.concentrator->ca_file;
    tls_ = net::TlsContext::client(o, error);
    if (!tls_) {
      error = "concentrator TLS: " + error;
      return false;
    }
  }
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

  load_state();
  paths::PathManager::Options opts;
  opts.manage_endpoints = cfg_.manage_endpoints;
  opts.policies = remembered_;
  for (const auto& [name, s] : cfg_.paths) {
    if (auto k = paths::parse_kind(s.kind)) opts.kinds[name] = *k;
    // The configured policy applies unless the user changed it since.
    if (auto p = paths::parse_policy(s.policy); p && !opts.policies.count(name)) opts.policies[name] = *p;
  }
  const std::string mode = remembered_mode_.empty() ? cfg_.mode : remembered_mode_;
  opts.mode = paths::parse_mode(mode).value_or(paths::Mode::custom);
  if (remembered_mode_ == "custom") opts.mode = paths::Mode::custom;
  paths_ = std::make_unique<paths::PathManager>(loop_, std::move(opts));
  std::string why;
  if (paths_->start(why) < 0) {
    BRAID_LOG(warn, "paths: %s; bonding still works with the system's endpoints", why.c_str());
    paths_.reset();
  } else {
    paths_->on_change = [this] {
      save_state();
      // Pre-warmed connections whose initial path went away or off go too.
      if (pool_) pool_->paths_changed();
      if (api_) api_->broadcast(control::paths_event(*this));
    };
  }
  if (cfg_.concentrator && cfg_.pool.enabled()) {
    pool_ = std::make_unique<Pool>(loop_, cfg_, tls_.get(), [this] { return bind_devices(); });
    pool_->start();
  }

  second_ = new uv_timer_t;
  uv_timer_init(loop_, second_);
  second_->data = this;
  uv_timer_start(
      second_, [](uv_timer_t* t) { static_cast<Engine*>(t->data)->on_second(); }, 1000, 1000);

  // The proxy is what the user came for: a control API that cannot start
  // (another braid holds the port) is reported, not fatal.
  if (cfg_.control && !start_control(error)) {
    BRAID_LOG(warn, "%s; running without it (set control.listen or --control to another port)", error.c_str());
    api_.reset();
    error.clear();
  }
  return true;
}

bool Engine::start_control(std::string& error) {
  // The token lives in a file only the user can read; create it once.
  std::string text;
  if (config::read_file(cfg_.control->token_file, text, error)) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
    token_ = text;
  }
  if (token_.empty()) {
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1) {
      error = "control API: cannot make a random token";
      return false;
    }
    static const char* hex = "0123456789abcdef";
    for (unsigned char b : raw) {
      token_ += hex[b >> 4];
      token_ += hex[b & 15];
    }
    if (!config::write_file_atomic(cfg_.control->token_file, token_ + "\n", 0600, error)) {
      error = "control API token: " + error;
      return false;
    }
  }
  error.clear();
  api_ = std::make_unique<control::ApiServer>(loop_, token_, control::make_handler(*this));
  if (api_->listen(cfg_.control->listen, error) < 0) {
    error = "control API: " + error;
    return false;
  }
  return true;
}

void Engine::on_accept(uv_stream_t* server, Frontend f) {
  const bool full = sessions_.size() >= cfg_.limits.max_connections;
  auto* s = sessions_.accept(server, [&](uint64_t id) {
    return std::make_unique<ClientSession>(loop_, id, cfg_, f, sessions_, this);
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

std::vector<std::string> Engine::bind_devices() {
  if (!paths_) return {};
  return paths_->bind_devices();
}

std::optional<PooledConnection> Engine::take_pooled() {
  if (!pool_) return std::nullopt;
  return pool_->take();
}

std::vector<ClientHooks::UdpPathInfo> Engine::udp_paths() {
  std::vector<UdpPathInfo> out;
  if (!paths_) return out;
  for (const auto& name : paths_->bind_devices()) {
    const auto* p = paths_->find(name);
    // Weight by what the path carried lately (bits/s over 10 s), so the
    // weighted scheduler follows measured capacity; 1 when idle.
    const auto t = telemetry_.path(name);
    out.push_back({name, p && p->policy == paths::Policy::backup, 1 + t.down_bps_10s + t.up_bps_10s});
  }
  return out;
}

namespace {
constexpr uint64_t kTcpOnlyMs = 10 * 60 * 1000;
constexpr size_t kTcpOnlyMax = 4096;
std::string ip_of(const sockaddr_storage& a) {
  return Destination::from_sockaddr(reinterpret_cast<const sockaddr*>(&a)).host();
}
}  // namespace

void Engine::note_tcp_only(const sockaddr_storage& destination) {
  if (tcp_only_.size() >= kTcpOnlyMax) tcp_only_.clear();  // bounded; relearnt quickly
  tcp_only_[ip_of(destination)] = uv_now(loop_) + kTcpOnlyMs;
}

bool Engine::tcp_only(const sockaddr_storage& destination) {
  auto it = tcp_only_.find(ip_of(destination));
  if (it == tcp_only_.end()) return false;
  if (it->second < uv_now(loop_)) {
    tcp_only_.erase(it);
    return false;
  }
  return true;
}

void Engine::on_subflows(uint64_t session, const std::vector<platform::SubflowStats>& subflows) {
  telemetry_.observe(session, subflows, [this](const sockaddr_storage& local) {
    return paths_ ? paths_->path_of(local) : std::string();
  });
}

void Engine::on_session_end(uint64_t session) { telemetry_.forget(session); }

void Engine::on_second() {
  // One reading per live upstream per second: two getsockopt calls each.
  sessions_.for_each([](net::Session& s) { static_cast<ClientSession&>(s).sample(); });
  telemetry_.tick();
  if (api_ && api_->streams() > 0) api_->broadcast(control::traffic_event(*this));
  if (++seconds_ % kSaveEverySeconds == 0) save_state();
}

std::vector<ConnectionInfo> Engine::connections() const {
  std::vector<ConnectionInfo> out;
  sessions_.for_each([&](net::Session& s) {
    if (!s.closing()) out.push_back(static_cast<ClientSession&>(s).info());
  });
  return out;
}

bool Engine::kill(uint64_t id) {
  bool found = false;
  sessions_.for_each([&](net::Session& s) {
    if (s.id() == id && !s.closing()) {
      s.close("closed through the control API");
      found = true;
    }
  });
  return found;
}

void Engine::load_state() {
  if (cfg_.state_file.empty()) return;
  state_loaded_ = true;
  std::string text, error;
  if (!config::read_file(cfg_.state_file, text, error)) return;  // first run
  try {
    auto j = nlohmann::json::parse(text);
    if (j.contains("policies"))
      for (auto it = j["policies"].begin(); it != j["policies"].end(); ++it)
        if (auto p = paths::parse_policy(it.value().get<std::string>())) remembered_[it.key()] = *p;
    if (j.contains("mode")) remembered_mode_ = j["mode"].get<std::string>();
    if (j.contains("totals"))
      for (auto it = j["totals"].begin(); it != j["totals"].end(); ++it)
        telemetry_.set_base(it.key(), {it.value().value("up", uint64_t{0}), it.value().value("down", uint64_t{0})});
  } catch (const nlohmann::json::exception& e) {
    BRAID_LOG(warn, "state file %s is unreadable (%s); starting afresh", cfg_.state_file.c_str(), e.what());
  }
}

void Engine::save_state() {
  if (cfg_.state_file.empty() || !state_loaded_) return;
  nlohmann::json j;
  j["policies"] = nlohmann::json::object();
  if (paths_) {
    for (const auto& [name, p] : paths_->policies()) j["policies"][name] = paths::to_string(p);
    j["mode"] = paths::to_string(paths_->mode());
  }
  j["totals"] = nlohmann::json::object();
  for (const auto& name : telemetry_.paths()) {
    const auto t = telemetry_.path(name).total;
    j["totals"][name] = {{"up", t.up}, {"down", t.down}};
  }
  std::string error;
  if (!config::write_file_atomic(cfg_.state_file, j.dump(2) + "\n", 0600, error))
    BRAID_LOG(warn, "cannot save state: %s", error.c_str());
}

void Engine::stop(std::function<void()> done) {
  for (auto& b : listeners_) b.listener->close();
  if (pool_) pool_->stop();
  if (api_) api_->close();
  if (second_) {
    uv_close(reinterpret_cast<uv_handle_t*>(second_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    second_ = nullptr;
  }
  sessions_.close_all("braid is shutting down", [this, done = std::move(done)] {
    // Sessions folded their last readings into the totals as they closed.
    save_state();
    if (paths_) paths_->stop();
    if (done) done();
  });
}

}  // namespace braid::client
