#include "client/client_session.hpp"

#include <algorithm>

#include "http/request_head.hpp"
#include "net/errors.hpp"
#include "socks5/codec.hpp"
#include "tunnel/wire.hpp"

namespace braid::client {

namespace {
// SOCKS4 reply "request rejected" (0x5B): a SOCKS4 client gets a clear no.
constexpr uint8_t kSocks4Rejected[8] = {0x00, 0x5B, 0, 0, 0, 0, 0, 0};
}  // namespace

ClientSession::ClientSession(uv_loop_t* loop, uint64_t id, const config::ClientConfig& cfg, Frontend frontend,
                             net::SessionOwner& owner, ClientHooks* hooks)
    : Session(loop, id, cfg.limits, owner),
      cfg_(cfg),
      frontend_(frontend),
      hooks_(hooks),
      started_ms_(uv_now(loop)) {}

ConnectionInfo ClientSession::info() const {
  ConnectionInfo i;
  i.id = id();
  i.protocol = app_ == App::socks5         ? "socks5"
               : app_ == App::socks5_udp ? "socks5-udp"
               : app_ == App::http_connect ? "http-connect"
                                           : "http";
  i.destination = state_ == State::detect || state_ == State::socks_greeting || state_ == State::socks_auth ||
                          state_ == State::socks_request || state_ == State::http_head
                      ? std::string()
                      : target_.to_string();
  i.state = state_ == State::relaying || state_ == State::udp ? "relaying"
            : (state_ == State::connecting || state_ == State::awaiting_reply) ? "connecting"
                                                                                : "handshake";
  i.age_ms = uv_now(loop()) - started_ms_;
  i.bytes_up = bytes_up_;
  i.bytes_down = bytes_down_;
  i.mptcp = upstream() && upstream_is_mptcp();
  i.prewarmed = prewarmed_;
  return i;
}

void ClientSession::sample() {
  if (closing() || !hooks_) return;
  // The merged reading: subflows that closed since the last second still
  // bring the bytes they carried before closing (marked not live).
  std::vector<platform::SubflowStats> now;
  if (read_upstream_subflows(now)) hooks_->on_subflows(id(), upstream_subflows());
}

void ClientSession::on_downstream_bytes() {
  while (!closing() && step()) {
  }
}

bool ClientSession::step() {
  switch (state_) {
    case State::detect: {
      if (in_.empty()) return false;
      const auto first = static_cast<uint8_t>(in_[0]);
      if (first == socks5::kVersion && frontend_ != Frontend::http) {
        state_ = State::socks_greeting;
      } else if (frontend_ != Frontend::socks5 && first != 0x04) {
        state_ = State::http_head;
      } else if (first == 0x04) {
        finish_down(kSocks4Rejected, sizeof kSocks4Rejected, "refused a SOCKS4 client: only SOCKS5 is spoken");
        return false;
      } else {
        close("the client does not speak SOCKS5 (first byte " + std::to_string(first) + ")");
        return false;
      }
      return true;
    }
    case State::socks_greeting: return socks_greeting();
    case State::socks_auth: return socks_auth();
    case State::socks_request: return socks_request();
    case State::http_head: return http_head();
    case State::udp:
      // The control connection carries nothing after the reply (RFC 1928 §7).
      in_.clear();
      return false;
    case State::awaiting_reply:
      if (optimistic_sent_) forward_before_reply();
      return false;
    case State::connecting:
    case State::relaying:
      // Early bytes wait in in_ until the upstream is ready.
      return false;
  }
  return false;
}

bool ClientSession::socks_greeting() {
  auto r = socks5::parse_greeting(bytes_of(in_));
  if (r.status == Parse::need_more) return false;
  if (r.status == Parse::error) {
    close("malformed SOCKS5 greeting");
    return false;
  }
  in_.erase(0, r.consumed);
  const uint8_t wanted = cfg_.auth ? socks5::kUserPass : socks5::kNoAuth;
  if (!r.value.offers(wanted)) {
    auto msg = socks5::method_selection(socks5::kNoAcceptable);
    finish_down(msg.data(), msg.size(),
                cfg_.auth ? "refused a SOCKS5 client that does not offer username/password"
                          : "refused a SOCKS5 client that offers no method without authentication");
    return false;
  }
  auto msg = socks5::method_selection(wanted);
  send_down(msg.data(), msg.size());
  state_ = cfg_.auth ? State::socks_auth : State::socks_request;
  return true;
}

bool ClientSession::socks_auth() {
  auto r = socks5::parse_userpass(bytes_of(in_));
  if (r.status == Parse::need_more) return false;
  const bool ok = r.status == Parse::done && wire::token_equal(r.value.username, cfg_.auth->username) &&
                  wire::token_equal(r.value.password, cfg_.auth->password);
  if (!ok) {
    auto msg = socks5::userpass_status(false);
    finish_down(msg.data(), msg.size(),
                r.status == Parse::error ? "malformed SOCKS5 username/password message"
                                         : "SOCKS5 authentication failed for user '" + r.value.username + "'");
    return false;
  }
  in_.erase(0, r.consumed);
  auto msg = socks5::userpass_status(true);
  send_down(msg.data(), msg.size());
  state_ = State::socks_request;
  return true;
}

bool ClientSession::socks_request() {
  auto r = socks5::parse_request(bytes_of(in_));
  if (r.status == Parse::need_more) return false;
  if (r.status == Parse::error) {
    auto msg = socks5::reply(r.code, Destination::ipv4_any());
    finish_down(msg.data(), msg.size(), std::string("bad SOCKS5 request: ") + socks5::reply_name(r.code));
    return false;
  }
  in_.erase(0, r.consumed);
  if (r.value.command == socks5::kUdpAssociate) {
    udp_associate();
    return false;
  }
  if (r.value.command != socks5::kConnect) {
    auto msg = socks5::reply(socks5::kCommandNotSupported, Destination::ipv4_any());
    finish_down(msg.data(), msg.size(),
                "SOCKS5 command " + std::to_string(r.value.command) + " is not supported (CONNECT only)");
    return false;
  }
  app_ = App::socks5;
  target_ = r.value.destination;
  open_upstream();
  return false;
}

bool ClientSession::http_head() {
  auto r = http::parse_request_head(bytes_of(in_));
  if (r.status == Parse::need_more) return false;
  if (r.status == Parse::error) {
    auto msg = http::proxy_response(r.http_status, r.error);
    finish_down(msg.data(), msg.size(), "HTTP " + std::to_string(r.http_status) + ": " + r.error);
    return false;
  }
  if (cfg_.auth) {
    auto creds = http::proxy_basic_credentials(r.head);
    const bool ok = creds && wire::token_equal(creds->first, cfg_.auth->username) &&
                    wire::token_equal(creds->second, cfg_.auth->password);
    if (!ok) {
      auto msg = http::proxy_response(407, "Braid needs a username and password (Basic)",
                                      "Proxy-Authenticate: Basic realm=\"braid\"\r\n");
      finish_down(msg.data(), msg.size(), creds ? "HTTP proxy authentication failed for user '" + creds->first + "'"
                                                : "HTTP proxy request without credentials: 407");
      return false;
    }
  }
  in_.erase(0, r.consumed);
  target_ = r.head.destination;
  if (r.head.is_connect) {
    app_ = App::http_connect;
  } else {
    app_ = App::http_forward;
    early_ = http::rewrite_for_origin(r.head);
  }
  BRAID_LOG(debug, "[s%llu] HTTP %s %s", static_cast<unsigned long long>(id()), r.head.method.c_str(),
            r.head.target.c_str());
  open_upstream();
  return false;
}

void ClientSession::open_upstream() {
  state_ = State::connecting;
  // A pre-warmed connection; the retry after a failed one always dials.
  if (via_concentrator() && hooks_ && !retried_) {
    if (auto pooled = hooks_->take_pooled()) {
      use_pooled(std::move(*pooled));
      return;
    }
  }
  if (hooks_) bind_devices_ = hooks_->bind_devices();
  const Destination& where = via_concentrator() ? cfg_.concentrator->address : target_;
  BRAID_LOG(debug, "[s%llu] %s via %s", static_cast<unsigned long long>(id()), target_.to_string().c_str(),
            via_concentrator() ? where.to_string().c_str() : "direct");
  if (const net::TlsContext* tls = via_concentrator() && hooks_ ? hooks_->concentrator_tls() : nullptr) {
    // The ClientHello is made before connecting, so it can ride in the SYN
    // (tcp_fastopen).
    const auto& c = *cfg_.concentrator;
    if (!prepare_upstream_tls(
            std::make_unique<net::TlsEngine>(*tls, c.server_name.empty() ? c.address.host() : c.server_name),
            cfg_.tcp_fastopen)) {
      upstream_failed(socks5::kGeneralFailure, 502, "cannot start TLS towards the concentrator");
      return;
    }
  }
  sockaddr_storage ss{};
  if (where.to_sockaddr(ss)) {
    dial({ss}, use_mptcp(ss));
    return;
  }
  resolve(where.domain, where.port);
}

void ClientSession::on_resolved(int status, std::vector<sockaddr_storage> addrs) {
  if (status < 0) {
    if (via_concentrator()) {
      upstream_failed(socks5::kGeneralFailure, 502,
                      "cannot resolve the concentrator " + cfg_.concentrator->address.to_string() + ": " +
                          net::describe_error(status));
    } else {
      upstream_failed(net::reply_for_error(status), 502,
                      "cannot resolve " + target_.host() + ": " + net::describe_error(status));
    }
    return;
  }
  const bool mptcp = use_mptcp(addrs.front());
  dial(std::move(addrs), mptcp);
}

bool ClientSession::use_mptcp(const sockaddr_storage& to) const {
  if (!cfg_.mptcp) return false;
  return via_concentrator() || !hooks_ || !hooks_->tcp_only(to);
}

void ClientSession::on_dialed(int status) {
  if (status < 0) {
    const int http_status = status == UV_ETIMEDOUT ? 504 : 502;
    if (via_concentrator()) {
      upstream_failed(socks5::kGeneralFailure, http_status,
                      "the concentrator " + cfg_.concentrator->address.to_string() +
                          " is unreachable: " + net::describe_error(status));
    } else {
      upstream_failed(net::reply_for_error(status), http_status,
                      "cannot connect to " + target_.to_string() + ": " + net::describe_error(status));
    }
    return;
  }
  if (cfg_.mptcp) {
    uv_os_fd_t fd = -1;
    uv_fileno(reinterpret_cast<uv_handle_t*>(upstream()), &fd);
    if (!upstream_is_mptcp()) {
      BRAID_LOG(debug, "[s%llu] plain TCP upstream: %s", static_cast<unsigned long long>(id()),
                platform::describe_mptcp_error(upstream_mptcp_error()).c_str());
    } else if (!platform::mptcp_active(fd)) {
      if (!via_concentrator() && hooks_) {
        sockaddr_storage peer{};
        int len = sizeof peer;
        uv_tcp_getpeername(upstream(), reinterpret_cast<sockaddr*>(&peer), &len);
        hooks_->note_tcp_only(peer);
      }
      BRAID_LOG(info, "[s%llu] upstream %s fell back to plain TCP (the peer or the path does not do MPTCP)",
                static_cast<unsigned long long>(id()),
                via_concentrator() ? "to the concentrator" : target_.to_string().c_str());
    }
  }
  if (!via_concentrator()) {
    const sockaddr_storage local = local_address(upstream());
    upstream_ready(Destination::from_sockaddr(reinterpret_cast<const sockaddr*>(&local)));
    return;
  }
  // With TLS the handshake is under way (the ClientHello went with or right
  // after the SYN); on_upstream_tls_ready() sends the header.
  if (upstream_tls()) return;
  send_request_header();  // insecure_plaintext
}

void ClientSession::use_pooled(PooledConnection c) {
  prewarmed_ = true;
  BRAID_LOG(debug, "[s%llu] %s via a pre-warmed connection (%s, idle %llu ms)", static_cast<unsigned long long>(id()),
            target_.to_string().c_str(), c.device.empty() ? "default route" : c.device.c_str(),
            static_cast<unsigned long long>(c.idle_ms));
  adopt_upstream(c.tcp, std::move(c.tls), c.mptcp, c.mptcp_error);
  send_request_header();
}

void ClientSession::answer_optimistically() {
  // The application may send at once: its first bytes follow the header in
  // the same flight instead of a round trip later.
  if (app_ == App::socks5) {
    auto msg = socks5::reply(socks5::kSucceeded, Destination::ipv4_any());
    send_down(msg.data(), msg.size());
    optimistic_sent_ = true;
  } else if (app_ == App::http_connect) {
    auto msg = http::proxy_response(200, {});
    send_down(msg.data(), msg.size());
    optimistic_sent_ = true;
  }
}

void ClientSession::forward_before_reply() {
  if (in_.empty()) return;
  if (!retried_) {
    // Kept for a retry on a fresh connection; past the limit the
    // application waits for the reply (its bytes stay in in_).
    if (replay_.size() + in_.size() > limits().buffer_bytes) return;
    replay_ += in_;
  }
  bytes_up_ += in_.size();
  send_up(in_.data(), in_.size());
  in_.clear();
}

bool ClientSession::can_retry() const {
  // The header went out (inside an established TLS session) and not one byte
  // of an answer came back: the concentrator did not act on it. Failures
  // before that (a refused dial, a TLS handshake that fails) would only
  // fail again.
  return !retried_ && !replay_full_ && state_ == State::awaiting_reply && up_in_.empty() &&
         (!upstream_tls() || upstream_tls()->handshake_done());
}

void ClientSession::retry_fresh(const std::string& why) {
  // What each subflow of the failed connection carried, for the log: a
  // connection that fails right after its handshake is rare enough to
  // deserve the facts.
  std::string carried;
  sample_upstream_subflows();
  for (const auto& s : upstream_subflows())
    carried += std::string(carried.empty() ? "" : ", ") +
               sockaddr_to_string(reinterpret_cast<const sockaddr*>(&s.local)) + " sent " +
               std::to_string(s.bytes_sent) + " B, received " + std::to_string(s.bytes_received) + " B";
  BRAID_LOG(info, "[s%llu] the %s connection to the concentrator failed before its answer (%s; subflows: %s); dialling "
            "afresh",
            static_cast<unsigned long long>(id()), prewarmed_ ? "pre-warmed" : "new", why.c_str(),
            carried.empty() ? "none readable" : carried.c_str());
  if (prewarmed_ && hooks_) hooks_->note_pool_fallback();
  retried_ = true;
  prewarmed_ = false;
  drop_upstream();
  // Everything sent after the header goes again, first.
  bytes_up_ -= std::min<uint64_t>(bytes_up_, replay_.size());
  early_ = std::move(replay_);
  replay_.clear();
  open_upstream();
}

void ClientSession::on_upstream_lost(const std::string& why) {
  if (can_retry()) {
    retry_fresh(why);
    return;
  }
  if (state_ == State::connecting || state_ == State::awaiting_reply) {
    upstream_failed(socks5::kGeneralFailure, 502, "the concentrator's connection ended before its answer: " + why);
    return;
  }
  close(why);
}

void ClientSession::on_upstream_tls_ready() {
  BRAID_LOG(debug, "[s%llu] TLS 1.3 with the concentrator established", static_cast<unsigned long long>(id()));
  send_request_header();
}

void ClientSession::on_tls_failed(bool upstream, const std::string& why) {
  if (upstream && can_retry()) {
    retry_fresh(why);
    return;
  }
  if (upstream && (state_ == State::connecting || state_ == State::awaiting_reply)) {
    upstream_failed(socks5::kGeneralFailure, 502,
                    "no secure channel to the concentrator " + cfg_.concentrator->address.to_string() + ": " + why +
                        (why.find("during the TLS handshake") != std::string::npos
                             ? " (is it at its connection limit, or refusing this address after failed logins?)"
                             : ""));
    return;
  }
  close(why);
}

void ClientSession::send_request_header() {
  // The request header, then whatever the application already sent, in one
  // write: the concentrator accepts early data right after the header.
  wire::Request req;
  req.kind = app_ != App::socks5_udp ? wire::Kind::tcp_stream
             : datagram_             ? wire::Kind::udp_datagram
                                     : wire::Kind::udp_framed;
  req.user = cfg_.concentrator->user;
  req.token = cfg_.concentrator->token;
  req.destination = app_ == App::socks5_udp ? Destination::ipv4_any() : target_;
  Bytes out;
  encode_request(req, out);
  if (req.kind == wire::Kind::udp_datagram) {
    // The downstream scheduler follows the header; without TLS, the
    // association's key too (with TLS it comes from the exporter).
    out.push_back(static_cast<uint8_t>(paths::parse_scheduler(cfg_.udp.scheduler).value_or(paths::Scheduler::lowest_rtt)));
    if (!upstream_tls()) out.insert(out.end(), key_.begin(), key_.end());
  }
  out.insert(out.end(), early_.begin(), early_.end());
  out.insert(out.end(), in_.begin(), in_.end());
  bytes_up_ += early_.size() + in_.size();
  if (!retried_) {
    replay_ = early_ + in_;
    replay_full_ = replay_.size() > limits().buffer_bytes;
  }
  early_.clear();
  in_.clear();
  send_up(out.data(), out.size());
  state_ = State::awaiting_reply;
  read_upstream();
  // optimistic_reply: a pre-warmed connection was taken, or a fresh one is
  // up (TLS done): the application hears "connected" now.
  if (!closing() && cfg_.optimistic_reply && !optimistic_sent_) answer_optimistically();
}

void ClientSession::on_upstream_bytes() {
  if (state_ == State::udp) {
    on_udp_frames();
    return;
  }
  if (state_ == State::relaying) {
    on_upstream_response_head();
    return;
  }
  if (state_ != State::awaiting_reply) return;
  auto r = wire::decode_reply(bytes_of(up_in_));
  if (r.status == Parse::need_more) return;
  if (r.status == Parse::error) {
    upstream_failed(socks5::kGeneralFailure, 502,
                    std::string("the concentrator sent a bad reply: ") + wire::status_name(r.code));
    return;
  }
  if (r.value.status == wire::kOk && datagram_) {
    // The association id follows the reply.
    if (up_in_.size() < r.consumed + wire::kAssociationIdLength) return;
    association_ = 0;
    for (size_t i = 0; i < wire::kAssociationIdLength; ++i)
      association_ = association_ << 8 | static_cast<uint8_t>(up_in_[r.consumed + i]);
    r.value.bound.to_sockaddr(conc_udp_);
    r.consumed += wire::kAssociationIdLength;
    const auto context = datagram::exporter_context(association_);
    if (upstream_tls() && !upstream_tls()->export_key(datagram::kExporterLabel, context.data(), context.size(),
                                                      key_.data(), key_.size())) {
      upstream_failed(socks5::kGeneralFailure, 502, "cannot derive the datagram key from the TLS session");
      return;
    }
  }
  up_in_.erase(0, r.consumed);
  if (r.value.status == wire::kBadToken) {
    upstream_failed(wire::to_socks_reply(r.value.status), wire::to_http_status(r.value.status),
                    "the concentrator refused user '" + cfg_.concentrator->user +
                        "': unknown user or wrong token (revoked? ask for a new access key)");
    return;
  }
  if (r.value.status != wire::kOk) {
    upstream_failed(wire::to_socks_reply(r.value.status), wire::to_http_status(r.value.status),
                    "the concentrator could not reach " + target_.to_string() + ": " +
                        wire::status_name(r.value.status));
    return;
  }
  upstream_ready(r.value.bound);
}

void ClientSession::on_upstream_response_head() {
  // Braid serves one request per client connection, so the response must say
  // "Connection: close" (RFC 9112 §9.6) or the client may send its next
  // request into a connection that is about to close.
  auto r = http::rewrite_response_head(up_in_);
  if (r.status == Parse::need_more) return;
  if (r.status == Parse::error) {
    // Not a head we can rewrite (101 Switching Protocols, or no HTTP at all):
    // relay untouched from here on.
    hold_upstream_ = false;
    bytes_down_ += up_in_.size();
    send_down(up_in_.data(), up_in_.size());
    up_in_.clear();
    return;
  }
  bytes_down_ += r.head.size();
  send_down(r.head.data(), r.head.size());
  up_in_.erase(0, r.consumed);
  // A 1xx interim head (100 Continue) passed unchanged; the final head follows.
  const bool interim = r.head.size() > 9 && r.head.compare(0, 5, "HTTP/") == 0 && r.head[9] == '1';
  if (interim) {
    if (!up_in_.empty()) on_upstream_response_head();
    return;
  }
  hold_upstream_ = false;
  bytes_down_ += up_in_.size();
  send_down(up_in_.data(), up_in_.size());
  up_in_.clear();
}

void ClientSession::upstream_ready(const Destination& bound) {
  replay_.clear();
  if (app_ == App::socks5_udp) {
    udp_start();
    return;
  }
  // With optimistic_reply the application was answered already.
  if (!optimistic_sent_ && app_ == App::socks5) {
    auto msg = socks5::reply(socks5::kSucceeded, bound);
    send_down(msg.data(), msg.size());
  } else if (!optimistic_sent_ && app_ == App::http_connect) {
    auto msg = http::proxy_response(200, {});
    send_down(msg.data(), msg.size());
  }
  // Direct mode: the upstream gets the early bytes now. Via the concentrator
  // they already went with the header.
  if (!via_concentrator()) send_up(early_.data(), early_.size());
  // Bytes the application sent while we waited (after the header went out,
  // or all of them in direct mode) go now, before anything else.
  send_up(in_.data(), in_.size());
  bytes_up_ += (via_concentrator() ? 0 : early_.size()) + in_.size();
  early_.clear();
  in_.clear();
  state_ = State::relaying;
  // Stream bytes that came right behind the concentrator's reply.
  if (app_ == App::http_forward) {
    hold_upstream_ = true;
    if (!up_in_.empty()) on_upstream_response_head();
  } else {
    bytes_down_ += up_in_.size();
    send_down(up_in_.data(), up_in_.size());
    up_in_.clear();
  }
  BRAID_LOG(info, "[s%llu] %s %s %s%s", static_cast<unsigned long long>(id()),
            app_ == App::socks5 ? "SOCKS5" : app_ == App::http_connect ? "HTTP CONNECT" : "HTTP",
            target_.to_string().c_str(),
            via_concentrator() ? (upstream_is_mptcp() ? "via concentrator (MPTCP" : "via concentrator (TCP")
                               : (upstream_is_mptcp() ? "direct (MPTCP" : "direct (TCP"),
            !via_concentrator() ? ")" : prewarmed_ ? ", pre-warmed)" : ")");
  start_relay();
}

void ClientSession::upstream_failed(uint8_t socks_reply, int http_status, const std::string& why) {
  if (optimistic_sent_) {
    // The application heard "connected" already: all that is left to tell
    // it is the end of the connection.
    close(why + " (the application was answered before the concentrator: optimistic_reply; closing its connection)");
    return;
  }
  if (app_ == App::socks5 || app_ == App::socks5_udp) {
    auto msg = socks5::reply(socks_reply, Destination::ipv4_any());
    finish_down(msg.data(), msg.size(), why + " -> SOCKS5 " + socks5::reply_name(socks_reply));
  } else {
    auto msg = http::proxy_response(http_status, why);
    finish_down(msg.data(), msg.size(), why + " -> HTTP " + std::to_string(http_status));
  }
}

void ClientSession::on_handshake_timeout() {
  if (state_ == State::connecting || state_ == State::awaiting_reply) {
    upstream_failed(socks5::kTtlExpired, 504, "no answer from upstream within the handshake timeout");
    return;
  }
  close("the client did not finish its handshake in time");
}

void ClientSession::on_downstream_eof_in_handshake() {
  // A client may send its request and half-close at once; keep going and
  // pass the EOF on when the relay starts.
  if (state_ == State::connecting || state_ == State::awaiting_reply) return;
  if (state_ == State::udp) {
    close("the UDP association's control connection closed");
    return;
  }
  close("the client closed during the handshake");
}

void ClientSession::on_closing() {
  if (app_ == App::socks5_udp)
    BRAID_LOG(info,
              "[s%llu] UDP association: %llu datagrams from the app, %llu to it; dropped: %llu from other addresses, %llu "
              "fragments, %llu malformed, %llu late, %llu queue full, %llu unsendable",
              static_cast<unsigned long long>(id()), static_cast<unsigned long long>(udp_.up),
              static_cast<unsigned long long>(udp_.down), static_cast<unsigned long long>(udp_.foreign),
              static_cast<unsigned long long>(udp_.frag), static_cast<unsigned long long>(udp_.malformed),
              static_cast<unsigned long long>(up_frames_ ? up_frames_->dropped_late() : 0),
              static_cast<unsigned long long>(up_frames_ ? up_frames_->dropped_full() : 0),
              static_cast<unsigned long long>(udp_send_failures_));
  if (datagram_) {
    std::string per_path;
    for (const auto& p : udp_paths_)
      per_path += " " + (p->name.empty() ? std::string("default") : p->name) + " " + std::to_string(p->sent) + "/" +
                  std::to_string(p->received) + " rtt " + std::to_string(p->rtt_us / 1000.0).substr(0, 5) + " ms;";
    BRAID_LOG(info, "[s%llu] datagram carrier (association %u): %llu sent, %llu received, %llu duplicates dropped, "
              "%llu rejected; per path sent/received:%s",
              static_cast<unsigned long long>(id()), association_, static_cast<unsigned long long>(dg_sent_),
              static_cast<unsigned long long>(dg_received_), static_cast<unsigned long long>(dg_duplicates_),
              static_cast<unsigned long long>(dg_rejected_), per_path.c_str());
  }
  sample_upstream_subflows();
  if (hooks_) {
    auto last = upstream_subflows();
    for (auto& s : last) s.live = false;  // the connection is closing
    hooks_->on_subflows(id(), last);
    hooks_->on_session_end(id());
  }
  for (const auto& s : upstream_subflows()) {
    BRAID_LOG(info, "subflow-stats session=%llu local=%s remote=%s bytes_sent=%llu bytes_received=%llu "
              "bytes_acked=%llu rtt_us=%u",
              static_cast<unsigned long long>(id()),
              sockaddr_to_string(reinterpret_cast<const sockaddr*>(&s.local)).c_str(),
              sockaddr_to_string(reinterpret_cast<const sockaddr*>(&s.remote)).c_str(),
              static_cast<unsigned long long>(s.bytes_sent), static_cast<unsigned long long>(s.bytes_received),
              static_cast<unsigned long long>(s.bytes_acked), s.rtt_us);
  }
}

}  // namespace braid::client
