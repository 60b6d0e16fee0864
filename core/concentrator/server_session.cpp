#include "concentrator/server_session.hpp"

#include <cstring>

#include <netinet/in.h>

#include "net/errors.hpp"
#include "tunnel/access_key.hpp"

namespace braid::concentrator {

ServerSession::ServerSession(uv_loop_t* loop, uint64_t id, const config::ConcentratorConfig& cfg,
                             net::SessionOwner& owner, DatagramHub* hub, Guard& guard)
    : Session(loop, id, cfg.limits, owner), guard_(guard), hub_(hub), cfg_(cfg) {}

void ServerSession::refuse_busy() {
  if (downstream_tls()) {
    // The answer can only travel inside TLS: finish the handshake, then
    // answer the request with "busy" (bounded by the handshake timeout).
    busy_ = true;
    start();
    return;
  }
  answer_and_close(wire::kBusy, "connection limit reached (limits.max_connections)");
}

void ServerSession::attach(Auth* auth, std::unique_ptr<net::TlsEngine> tls) {
  auth_ = auth;
  if (tls) set_downstream_tls(std::move(tls));
  sockaddr_storage ss{};
  int len = sizeof ss;
  uv_tcp_getpeername(downstream(), reinterpret_cast<sockaddr*>(&ss), &len);
  peer_ = Destination::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss)).host();
}

void ServerSession::begin() {
  start();
  // Without TLS the connection is established already.
  if (!downstream_tls()) await_request();
}

void ServerSession::on_downstream_tls_ready() { await_request(); }

void ServerSession::await_request() {
  // A client's pool connects ahead of need: until the first byte of a
  // request, the wait is the pool's limit, not the handshake's. A busy
  // answer is not held back that long.
  if (busy_ || state_ != State::request || !in_.empty()) return;
  idle_wait_ = true;
  restart_handshake_timer(limits().pool_idle_ms);
}

void ServerSession::answer_and_close(uint8_t status, const std::string& why) {
  switch (status) {
    case wire::kNotAllowed: guard_.count(Guard::Refusal::destination); break;
    case wire::kBusy: guard_.count(user_counted_ || user_.empty() ? Guard::Refusal::busy : Guard::Refusal::user_limit); break;
    case wire::kBadToken: guard_.count(Guard::Refusal::bad_token); break;
    case wire::kUnsupportedVersion:
    case wire::kMalformed:
    case wire::kAddressTypeNotSupported:
    case wire::kKindNotSupported: guard_.count(Guard::Refusal::malformed); break;
    default: break;
  }
  wire::Reply reply;
  reply.status = status;
  Bytes out;
  wire::encode_reply(reply, out);
  finish_down(out.data(), out.size(), why + " -> " + wire::status_name(status));
}

void ServerSession::on_downstream_bytes() {
  if (state_ == State::udp) {
    on_udp_frames();
    return;
  }
  if (state_ != State::request) return;  // early data waits in in_
  if (idle_wait_ && !in_.empty()) {
    // The request began: the rest of it, and the connect, get the handshake timeout.
    idle_wait_ = false;
    restart_handshake_timer(limits().handshake_timeout_ms);
  }
  if (busy_) {
    answer_and_close(wire::kBusy, "connection limit reached (limits.max_connections)");
    return;
  }
  auto r = wire::decode_request(bytes_of(in_));
  if (r.status == Parse::need_more) return;
  if (r.status == Parse::error) {
    answer_and_close(r.code, "rejected a request");
    return;
  }
  // Checked at accept and again here: connections opened before an address
  // was blocked (a client's pool keeps some for minutes) must not carry
  // more guesses after it.
  if (auth_ && auth_->limiter.blocked(peer_, uv_now(loop()))) {
    close("refused without checking: " + peer_ + " failed to log in " + std::to_string(AuthLimiter::kMaxFailures) +
          " times within " + std::to_string(AuthLimiter::kWindowMs / 1000) + " s");
    return;
  }
  if (!auth_ || !auth_->users.check(r.value.user, r.value.token)) {
    // Logged by name (never the token); a name that is not a valid user
    // name is not echoed into the log.
    const std::string who = access::valid_user_name(r.value.user) ? "'" + r.value.user + "'" : "(not a user name)";
    const bool known = auth_ && auth_->users.contains(r.value.user);
    if (auth_) auth_->limiter.failed(peer_, uv_now(loop()));
    answer_and_close(wire::kBadToken, "refused user " + who + " from " + peer_ + ": " +
                                          (known ? "wrong token" : "no such user (unknown or revoked)"));
    return;
  }
  user_ = r.value.user;
  if (!admit_user()) return;
  if (r.value.kind == wire::Kind::udp_framed) {
    in_.erase(0, r.consumed);
    start_udp();
    return;
  }
  if (r.value.kind == wire::Kind::udp_datagram) {
    // The scheduler (and, without TLS, the key) follows the header.
    const size_t setup = wire::kDatagramSetupLength + (downstream_tls() ? 0 : wire::kPlaintextKeyLength);
    if (in_.size() < r.consumed + setup) return;
    start_datagram(r.consumed);
    return;
  }
  if (r.value.kind != wire::Kind::tcp_stream) {
    answer_and_close(wire::kKindNotSupported,
                     "request kind " + std::to_string(static_cast<int>(r.value.kind)) + " is not supported yet");
    return;
  }
  in_.erase(0, r.consumed);
  target_ = r.value.destination;
  state_ = State::connecting;
  BRAID_LOG(debug, "[s%llu] request for %s", static_cast<unsigned long long>(id()), target_.to_string().c_str());
  sockaddr_storage ss{};
  if (target_.to_sockaddr(ss)) {
    std::vector<sockaddr_storage> addrs{ss};
    if (keep_allowed(addrs)) dial(std::move(addrs), false);
    return;
  }
  resolve(target_.domain, target_.port);
}

void ServerSession::on_resolved(int status, std::vector<sockaddr_storage> addrs) {
  if (lookup_refused_) {
    answer_and_close(wire::kGeneralFailure, "cannot resolve " + target_.host() + ": " +
                                                std::to_string(limits().max_dns_lookups) +
                                                " lookups in flight already (limits.max_dns_lookups)");
    return;
  }
  if (status == 0 && !keep_allowed(addrs)) return;
  if (status < 0) {
    answer_and_close(net::reply_for_error(status),
                     "cannot resolve " + target_.host() + ": " + net::describe_error(status));
    return;
  }
  dial(std::move(addrs), false);
}

void ServerSession::on_dialed(int status) {
  if (status < 0) {
    answer_and_close(net::reply_for_error(status),
                     "cannot connect to " + target_.to_string() + ": " + net::describe_error(status));
    return;
  }
  const sockaddr_storage local = local_address(upstream());
  wire::Reply reply;
  reply.status = wire::kOk;
  reply.bound = Destination::from_sockaddr(reinterpret_cast<const sockaddr*>(&local));
  Bytes out;
  wire::encode_reply(reply, out);
  send_down(out.data(), out.size());
  send_up(in_.data(), in_.size());  // early data that came with the header
  in_.clear();
  state_ = State::relaying;
  BRAID_LOG(info, "[s%llu] relaying to %s", static_cast<unsigned long long>(id()), target_.to_string().c_str());
  start_relay();
}

namespace {
constexpr size_t kMaxDatagramPeers = 4096;
}  // namespace

bool ServerSession::start_datagram(size_t header_length) {
  const auto sched = static_cast<uint8_t>(in_[header_length]);
  // Without TLS the client sends the key in clear (insecure_plaintext only).
  const bool plaintext_key = !downstream_tls();
  if (plaintext_key) std::memcpy(key_.data(), in_.data() + header_length + 1, key_.size());
  in_.erase(0, header_length + wire::kDatagramSetupLength + (plaintext_key ? wire::kPlaintextKeyLength : 0));
  if (sched > 2) {
    answer_and_close(wire::kMalformed, "unknown datagram scheduler " + std::to_string(sched));
    return false;
  }
  scheduler_ = std::make_unique<paths::UdpScheduler>(static_cast<paths::Scheduler>(sched));
  association_ = hub_ ? hub_->register_association(this) : 0;
  if (!association_) {
    answer_and_close(wire::kKindNotSupported, "the datagram carrier's UDP port is not open");
    return false;
  }
  // With TLS both ends derive the association's key from the TLS session
  // (RFC 8446 §7.5); it never travels.
  const auto context = datagram::exporter_context(association_);
  if (!plaintext_key && !downstream_tls()->export_key(datagram::kExporterLabel, context.data(), context.size(),
                                                      key_.data(), key_.size())) {
    answer_and_close(wire::kGeneralFailure, "cannot derive the datagram key from the TLS session");
    return false;
  }
  // Reply: the UDP port to send to (the address is the one the client reached
  // us at), then the association id.
  sockaddr_storage local = local_address(downstream());
  if (local.ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(&local)->sin_port = htons(hub_->udp_port());
  if (local.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6*>(&local)->sin6_port = htons(hub_->udp_port());
  wire::Reply reply;
  reply.status = wire::kOk;
  reply.bound = Destination::from_sockaddr(reinterpret_cast<const sockaddr*>(&local));
  Bytes out;
  wire::encode_reply(reply, out);
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<uint8_t>(association_ >> (8 * i)));
  send_down(out.data(), out.size());
  BRAID_LOG(info, "[s%llu] UDP association %u (datagram carrier, %s downstream)", static_cast<unsigned long long>(id()),
            association_, paths::to_string(scheduler_->kind()));
  state_ = State::udp;
  down_frames_ = std::make_unique<net::DatagramQueue>(net::kFramedQueueBytes, limits().udp_deadline_ms);
  start_manual();
  on_udp_frames();
  return true;
}

void ServerSession::on_datagram_packet(const char* data, size_t len, const sockaddr* from) {
  if (closing() || state_ != State::udp) return;
  datagram::Packet p;
  if (datagram::decode(bytes_of(data, len), key_, datagram::Direction::upstream, p) != datagram::Error::none) {
    ++dg_forged_;
    return;
  }
  if (!replay_.accept(p.seq)) {
    ++dg_replayed_;  // a redundant copy that lost the race, or a replay
    return;
  }
  // Learn where this client path's packets come from: its NAT binding.
  ClientPath& cp = client_paths_[p.path];
  std::memcpy(&cp.address, from, from->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
  cp.known = true;
  cp.last_heard_ms = uv_now(loop());
  switch (p.type) {
    case datagram::Type::data: {
      touch();
      ++dg_in_;
      // Bounded: a client talking to very many peers starts the set afresh
      // (a forgotten peer's replies then go framed, which still arrives).
      if (datagram_peers_.size() >= kMaxDatagramPeers) datagram_peers_.clear();
      // The client's rule for this destination picks the downstream scheduler
      // too (TYPE bits 4-5); without one, the association's SCHED.
      datagram_peers_[p.address.to_string()] =
          p.sched ? static_cast<paths::Scheduler>(p.sched - 1) : scheduler_->kind();
      udp_send_to(p.address, p.payload.data(), p.payload.size());
      break;
    }
    case datagram::Type::probe: {
      for (const auto& r : p.paths) client_paths_[r.path].report = r;
      if (p.interval_ms) probe_interval_ms_ = p.interval_ms;
      datagram::Packet reply;
      reply.type = datagram::Type::probe_reply;
      reply.association = association_;
      reply.seq = down_seq_++;
      reply.path = p.path;
      reply.sent_us = p.sent_us;
      hub_->send_packet(from, datagram::encode(reply, key_, datagram::Direction::downstream));
      break;
    }
    case datagram::Type::probe_reply:
      break;
  }
}

// A path carries downstream datagrams while the client says it is live AND
// its packets still arrive here: silent for two probe intervals plus a
// margin means two probes in a row missed (≈ 0.25 % of intervals by chance
// at 5 % loss), so the path is left before the client's report of it could
// come. Data packets count as heard too.
bool ServerSession::path_live(const ClientPath& cp) const {
  const uint64_t rtt_ms = cp.report.rtt_us / 1000;
  const uint64_t silence = 2ull * probe_interval_ms_ + std::max<uint64_t>(50, rtt_ms);
  return cp.report.live && uv_now(loop()) - cp.last_heard_ms <= silence;
}

void ServerSession::send_datagram_down(const Destination& from, const char* data, size_t len, paths::Scheduler kind) {
  std::vector<paths::UdpPathState> states;
  for (const auto& [pid, cp] : client_paths_) {
    if (!cp.known) continue;
    paths::UdpPathState st;
    st.id = pid;
    st.live = path_live(cp);
    st.backup = cp.report.backup;
    st.rtt_us = cp.report.rtt_us;
    st.loss_percent = cp.report.loss_percent;
    states.push_back(st);
  }
  datagram::Packet p;
  p.type = datagram::Type::data;
  p.association = association_;
  p.seq = down_seq_++;
  p.address = from;
  p.payload.assign(data, len);
  auto& sched = kind == scheduler_->kind() ? scheduler_ : peer_schedulers_[kind];
  if (!sched) sched = std::make_unique<paths::UdpScheduler>(kind);
  for (uint8_t pid : sched->pick(states)) {
    p.path = pid;
    if (hub_->send_packet(reinterpret_cast<const sockaddr*>(&client_paths_[pid].address), datagram::encode(p, key_, datagram::Direction::downstream)))
      ++dg_out_;
  }
}

void ServerSession::start_udp() {
  wire::Reply reply;
  reply.status = wire::kOk;
  Bytes out;
  wire::encode_reply(reply, out);
  send_down(out.data(), out.size());
  state_ = State::udp;
  down_frames_ = std::make_unique<net::DatagramQueue>(net::kFramedQueueBytes, limits().udp_deadline_ms);
  BRAID_LOG(info, "[s%llu] UDP association (framed)", static_cast<unsigned long long>(id()));
  start_manual();
  on_udp_frames();
}

void ServerSession::on_udp_frames() {
  for (;;) {
    auto d = wire::decode_datagram(bytes_of(in_));
    if (d.status == Parse::need_more) return;
    if (d.status == Parse::error) {
      guard_.count(Guard::Refusal::malformed);
      close(std::string("bad UDP frame from the client: ") + wire::status_name(d.code));
      return;
    }
    ++udp_up_;
    udp_send_to(d.value.address, d.value.payload.data(), d.value.payload.size());
    in_.erase(0, d.consumed);
  }
}

void ServerSession::on_udp_reply(const sockaddr* from, const char* data, size_t len) {
  if (state_ != State::udp) return;
  const Destination source = Destination::from_sockaddr(from);
  if (association_) {
    if (auto it = datagram_peers_.find(source.to_string()); it != datagram_peers_.end()) {
      send_datagram_down(source, data, len, it->second);
      return;
    }
  }
  Bytes frame;
  wire::encode_datagram(Destination::from_sockaddr(from), bytes_of(data, len), frame);
  down_frames_->push(std::move(frame), uv_now(loop()));
  flush_frames_down();
}

void ServerSession::flush_frames_down() {
  while (down_frames_ && downstream_queued() < net::kFramedStreamHigh) {
    auto f = down_frames_->pop(uv_now(loop()));
    if (!f) break;
    ++udp_down_;
    send_down(f->data(), f->size());
  }
}

void ServerSession::on_drained(bool upstream) {
  if (!upstream && state_ == State::udp) flush_frames_down();
}

bool ServerSession::admit_user() {
  if (user_counted_) return true;
  if (!guard_.add_user_session(user_)) {
    answer_and_close(wire::kBusy, "user " + user_ + " already has " + std::to_string(guard_.user_sessions(user_)) +
                                      " connections (limits.max_connections_per_user)");
    return false;
  }
  user_counted_ = true;
  return true;
}

bool ServerSession::keep_allowed(std::vector<sockaddr_storage>& addrs) {
  // Checked after resolution, on every address: a name that resolves to
  // 127.0.0.1 is as refused as the literal. Of several addresses only the
  // allowed ones are tried.
  PolicyVerdict refused;
  std::vector<sockaddr_storage> allowed;
  for (const auto& a : addrs) {
    auto v = guard_.check(reinterpret_cast<const sockaddr*>(&a));
    if (v.allowed)
      allowed.push_back(a);
    else if (refused.reason.empty())
      refused = v;
  }
  if (allowed.empty()) {
    std::string where = target_.to_string();
    if (target_.type == Destination::Type::domain && !addrs.empty())
      where += " (" + sockaddr_to_string(reinterpret_cast<const sockaddr*>(&addrs.front())) + ")";
    answer_and_close(wire::kNotAllowed, "user " + user_ + ": destination " + where + " refused: " + refused.reason);
    return false;
  }
  if (allowed.size() < addrs.size())
    BRAID_LOG(info, "[s%llu] %s: %zu of %zu addresses refused (%s), trying the others",
              static_cast<unsigned long long>(id()), target_.to_string().c_str(), addrs.size() - allowed.size(),
              addrs.size(), refused.reason.c_str());
  addrs = std::move(allowed);
  return true;
}

std::string ServerSession::udp_refusal(const sockaddr_storage& to) const {
  auto v = guard_.check(reinterpret_cast<const sockaddr*>(&to));
  return v.allowed ? std::string() : v.reason;
}

bool ServerSession::lookup_may_start() {
  if (guard_.begin_lookup()) return true;
  lookup_refused_ = true;
  guard_.count(Guard::Refusal::dns_limit);
  return false;
}

void ServerSession::lookup_finished() { guard_.end_lookup(); }

void ServerSession::on_tls_failed(bool upstream, const std::string& why) {
  if (!upstream && downstream_tls() && !downstream_tls()->handshake_done())
    guard_.count(Guard::Refusal::tls_handshake);
  Session::on_tls_failed(upstream, why);
}

void ServerSession::on_closing() {
  if (user_counted_) guard_.remove_user_session(user_);
  user_counted_ = false;
  guard_.count(Guard::Refusal::udp_destination, udp_refused_);
  if (association_) hub_->unregister_association(association_);
  if (state_ != State::udp) return;
  if (association_) {
    BRAID_LOG(info, "[s%llu] datagram carrier: %llu packets in, %llu out; rejected %llu forged, %llu duplicate or "
              "replayed",
              static_cast<unsigned long long>(id()), static_cast<unsigned long long>(dg_in_),
              static_cast<unsigned long long>(dg_out_), static_cast<unsigned long long>(dg_forged_),
              static_cast<unsigned long long>(dg_replayed_));
  }
  BRAID_LOG(info, "[s%llu] UDP association: %llu framed datagrams from the client, %llu to it; dropped %llu late, %llu "
            "queue full, %llu unsendable, %llu not allowed",
            static_cast<unsigned long long>(id()), static_cast<unsigned long long>(udp_up_),
            static_cast<unsigned long long>(udp_down_), static_cast<unsigned long long>(down_frames_->dropped_late()),
            static_cast<unsigned long long>(down_frames_->dropped_full()),
            static_cast<unsigned long long>(udp_send_failures_), static_cast<unsigned long long>(udp_refused_));
}

void ServerSession::on_handshake_timeout() {
  if (state_ == State::connecting) {
    answer_and_close(wire::kTimedOut, "no connection to " + target_.to_string() + " within the handshake timeout");
    return;
  }
  if (idle_wait_) {
    // A pre-warmed connection the client never needed: routine, not an error.
    close_quietly("idle for " + std::to_string(limits().pool_idle_ms / 1000) +
                  " s without a request (limits.pool_idle_ms)");
    return;
  }
  guard_.count(Guard::Refusal::handshake_timeout);
  close("no complete request within the handshake timeout");
}

void ServerSession::on_downstream_eof_in_handshake() {
  if (state_ == State::connecting) return;  // passed on once relaying
  if (state_ == State::udp) {
    close("the client ended the UDP association");
    return;
  }
  if (idle_wait_) {
    close_quietly("the client closed a pre-warmed connection it did not use");
    return;
  }
  close("the client closed before sending a complete request");
}

}  // namespace braid::concentrator
