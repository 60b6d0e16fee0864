#include "concentrator/guard.hpp"

#include <algorithm>
#include <cstring>

#include <netinet/in.h>

#include "net/errors.hpp"
#include "net/log.hpp"

namespace braid::concentrator {

Guard::Guard(uv_loop_t* loop, const config::ConcentratorConfig& cfg)
    : loop_(loop), limits_(cfg.limits), policy_(cfg.destinations), summary_ms_(uv_now(loop)) {
  if (auto d = parse_host_port(cfg.public_address); d && d->type != Destination::Type::domain) {
    sockaddr_storage ss{};
    d->to_sockaddr(ss);
    if (auto a = net::IpAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss))) public_.push_back(*a);
  }
  policy_.set_own_addresses(public_);
}

void Guard::refresh_own_addresses() {
  refreshed_ = true;
  refreshed_ms_ = uv_now(loop_);
  uv_interface_address_t* list = nullptr;
  int n = 0;
  if (int rc = uv_interface_addresses(&list, &n); rc < 0) {
    // Keep the last list: an empty one would open the concentrator's own addresses.
    BRAID_LOG(warn, "destination policy: cannot read this machine's addresses: %s", net::describe_error(rc).c_str());
    return;
  }
  std::vector<net::IpAddress> own = public_;
  for (int i = 0; i < n; ++i) {
    const auto& ifa = list[i];
    if (ifa.is_internal) continue;  // loopback: a built-in refusal already
    auto a = net::IpAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&ifa.address));
    if (!a) continue;
    own.push_back(*a);
    // The subnet's broadcast address reaches every host on it, this one too.
    if (!a->v6 && ifa.netmask.netmask4.sin_family == AF_INET) {
      net::IpAddress b = *a;
      const auto* mask = reinterpret_cast<const uint8_t*>(&ifa.netmask.netmask4.sin_addr);
      for (size_t k = 0; k < 4; ++k) b.bytes[k] = static_cast<uint8_t>(b.bytes[k] | ~mask[k]);
      if (b != *a) own.push_back(b);
    }
  }
  uv_free_interface_addresses(list, n);
  policy_.set_own_addresses(std::move(own));
}

PolicyVerdict Guard::check(const sockaddr* to) {
  if (!refreshed_ || uv_now(loop_) - refreshed_ms_ >= kRefreshMs) refresh_own_addresses();
  return policy_.check(to);
}

bool Guard::add_user_session(const std::string& user) {
  uint32_t& n = users_[user];
  if (n >= limits_.max_connections_per_user) {
    if (n == 0) users_.erase(user);
    return false;
  }
  ++n;
  return true;
}

void Guard::remove_user_session(const std::string& user) {
  auto it = users_.find(user);
  if (it == users_.end()) return;
  if (--it->second == 0) users_.erase(it);
}

uint32_t Guard::user_sessions(const std::string& user) const {
  auto it = users_.find(user);
  return it == users_.end() ? 0 : it->second;
}

bool Guard::begin_lookup() {
  if (lookups_ >= limits_.max_dns_lookups) return false;
  ++lookups_;
  return true;
}

void Guard::end_lookup() {
  if (lookups_ > 0) --lookups_;
}

const char* Guard::name(Refusal r) {
  switch (r) {
    case Refusal::destination: return "connections to destinations not allowed";
    case Refusal::udp_destination: return "datagrams to destinations not allowed";
    case Refusal::busy: return "over the connection limit";
    case Refusal::user_limit: return "over the per-user connection limit";
    case Refusal::dns_limit: return "over the DNS lookup limit";
    case Refusal::bad_token: return "unknown tokens";
    case Refusal::malformed: return "malformed requests";
    case Refusal::handshake_timeout: return "incomplete requests (handshake timeout)";
    case Refusal::tls_handshake: return "failed TLS handshakes";
  }
  return "?";
}

void Guard::count(Refusal r, uint64_t n) {
  if (n == 0) return;
  refused_[static_cast<size_t>(r)] += n;
  // Refusals are logged one by one as they happen; the running totals come
  // at most once a minute, so a flood cannot turn the log into the totals.
  const uint64_t now = uv_now(loop_);
  if (now - summary_ms_ >= kSummaryEveryMs) {
    summary_ms_ = now;
    BRAID_LOG(info, "%s", summary().c_str());
  }
}

std::string Guard::summary() const {
  std::string out;
  for (size_t i = 0; i < kRefusalKinds; ++i) {
    if (!refused_[i]) continue;
    out += (out.empty() ? "" : ", ") + std::to_string(refused_[i]) + " " + name(static_cast<Refusal>(i));
  }
  return out.empty() ? "refused since start: nothing" : "refused since start: " + out;
}

}  // namespace braid::concentrator
