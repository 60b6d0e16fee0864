#include "concentrator/server.hpp"

#include "braid/platform.hpp"
#include "concentrator/server_session.hpp"
#include "net/errors.hpp"
#include "net/log.hpp"

namespace braid::concentrator {

Server::Server(uv_loop_t* loop, config::ConcentratorConfig cfg) : loop_(loop), cfg_(std::move(cfg)) {}

void Server::ensure_mptcp_limits() {
  if (!cfg_.mptcp || cfg_.mptcp_subflows == 0) return;
  // Each client path beyond the first arrives as an MP_JOIN; the server
  // accepts only as many extra subflows as its path manager's limit allows
  // (default 2), so raise it where we may.
  platform::MptcpLimits limits;
  if (int rc = platform::get_mptcp_limits(limits); rc < 0) {
    BRAID_LOG(warn, "cannot read the MPTCP path-manager limits: %s", net::describe_error(rc).c_str());
    return;
  }
  if (limits.subflows >= cfg_.mptcp_subflows) {
    BRAID_LOG(info, "MPTCP limits: %u subflows per connection", limits.subflows);
    return;
  }
  platform::MptcpLimits wanted = limits;
  wanted.subflows = cfg_.mptcp_subflows;
  if (int rc = platform::set_mptcp_limits(wanted); rc < 0) {
    BRAID_LOG(warn,
              "MPTCP limits: only %u extra subflows per connection and raising it failed (%s); as root run "
              "'ip mptcp limits set subflow %u' or grant CAP_NET_ADMIN",
              limits.subflows, net::describe_error(rc).c_str(), cfg_.mptcp_subflows);
    return;
  }
  BRAID_LOG(info, "MPTCP limits: raised subflows per connection from %u to %u", limits.subflows, wanted.subflows);
}

bool Server::start(std::string& error) {
  ensure_mptcp_limits();
  listener_ = std::make_unique<net::Listener>(loop_);
  if (listener_->listen(cfg_.listen, cfg_.mptcp, [this](uv_stream_t* s) { on_accept(s); }, error) < 0) return false;
  if (cfg_.mptcp && !listener_->is_mptcp())
    BRAID_LOG(warn, "listening with plain TCP: %s", platform::describe_mptcp_error(listener_->mptcp_error()).c_str());
  return true;
}

void Server::on_accept(uv_stream_t* server) {
  const bool full = sessions_.size() >= cfg_.limits.max_connections;
  auto* s = static_cast<ServerSession*>(sessions_.accept(
      server, [&](uint64_t id) { return std::make_unique<ServerSession>(loop_, id, cfg_, sessions_); }));
  if (!s) return;
  if (full) {
    s->refuse_busy();
    return;
  }
  s->start();
}

void Server::stop(std::function<void()> done) {
  if (listener_) listener_->close();
  sessions_.close_all("the concentrator is shutting down", std::move(done));
}

}  // namespace braid::concentrator
