// The UDP ASSOCIATE part of a client session (RFC 1928 §4, §7): a UDP relay
// socket on the address the client reached us at, datagrams accepted only
// from the client's address, FRAG ≠ 0 dropped (no reassembly), and carried
// either framed over the session's MPTCP connection to the concentrator or,
// without a concentrator, straight to the destination.
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "client/client_session.hpp"
#include "net/errors.hpp"
#include "socks5/codec.hpp"
#include "socks5/udp.hpp"
#include "tunnel/wire.hpp"

#include <netinet/in.h>
#include <openssl/rand.h>

#include "braid/platform.hpp"

namespace braid::client {

namespace {

bool same_ip(const sockaddr_storage& a, const sockaddr* b) {
  if (a.ss_family != b->sa_family) return false;
  if (a.ss_family == AF_INET)
    return reinterpret_cast<const sockaddr_in*>(&a)->sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in*>(b)->sin_addr.s_addr;
  return std::memcmp(&reinterpret_cast<const sockaddr_in6*>(&a)->sin6_addr,
                     &reinterpret_cast<const sockaddr_in6*>(b)->sin6_addr, 16) == 0;
}

uint16_t port_of(const sockaddr* a) {
  return ntohs(a->sa_family == AF_INET ? reinterpret_cast<const sockaddr_in*>(a)->sin_port
                                       : reinterpret_cast<const sockaddr_in6*>(a)->sin6_port);
}
}  // namespace

void ClientSession::udp_associate() {
  app_ = App::socks5_udp;
  target_ = Destination::ipv4_any();
  // Datagrams are accepted only from the address the control connection
  // comes from; the port is learnt from the first datagram.
  int len = sizeof app_addr_;
  uv_tcp_getpeername(downstream(), reinterpret_cast<sockaddr*>(&app_addr_), &len);
  sockaddr_storage local = local_address(downstream());
  if (local.ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(&local)->sin_port = 0;
  if (local.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6*>(&local)->sin6_port = 0;
  app_udp_ = new_udp();
  int rc = uv_udp_bind(app_udp_, reinterpret_cast<const sockaddr*>(&local), 0);
  if (rc == 0)
    rc = uv_udp_recv_start(
        app_udp_,
        alloc_datagram,
        [](uv_udp_t* h, ssize_t n, const uv_buf_t* buf, const sockaddr* from, unsigned flags) {
          auto* s = static_cast<ClientSession*>(static_cast<net::Session*>(h->data));
          if (n > 0 && from && !(flags & UV_UDP_PARTIAL)) s->on_app_datagram(from, buf->base, static_cast<size_t>(n));
          std::free(buf->base);
        });
  if (rc < 0) {
    upstream_failed(socks5::kGeneralFailure, 502, "cannot open the UDP relay socket: " + net::describe_error(rc));
    return;
  }
  sockaddr_storage bound{};
  len = sizeof bound;
  uv_udp_getsockname(app_udp_, reinterpret_cast<sockaddr*>(&bound), &len);
  udp_bound_ = Destination::from_sockaddr(reinterpret_cast<const sockaddr*>(&bound));
  up_frames_ = std::make_unique<net::DatagramQueue>(net::kFramedQueueBytes, limits().udp_deadline_ms);
  if (via_concentrator() && config::uses_datagram_carrier(cfg_.udp)) {
    datagram_ = true;
    // Without TLS the client makes the key and sends it (insecure_plaintext);
    // with TLS both ends derive it once the association id is known.
    if (cfg_.concentrator->insecure_plaintext) RAND_bytes(key_.data(), static_cast<int>(key_.size()));
  }
  if (via_concentrator()) {
    open_upstream();  // the reply to the client follows the concentrator's
    return;
  }
  udp_start();
}

void ClientSession::udp_start() {
  auto msg = socks5::reply(socks5::kSucceeded, udp_bound_);
  send_down(msg.data(), msg.size());
  state_ = State::udp;
  BRAID_LOG(info, "[s%llu] SOCKS5 UDP ASSOCIATE on %s, %s", static_cast<unsigned long long>(id()),
            udp_bound_.to_string().c_str(),
            !via_concentrator() ? "direct to destinations"
            : datagram_         ? "framed over MPTCP and multipath datagrams (by udp.rules) to the concentrator"
                                : "framed over MPTCP to the concentrator");
  start_manual();
  if (datagram_) datagram_start();
  if (!up_in_.empty()) on_udp_frames();
}

void ClientSession::on_app_datagram(const sockaddr* from, const char* data, size_t len) {
  if (closing() || state_ != State::udp) return;
  if (!same_ip(app_addr_, from) || (app_pinned_ && port_of(from) != port_of(reinterpret_cast<sockaddr*>(&app_addr_)))) {
    ++udp_.foreign;
    return;
  }
  if (!app_pinned_) {
    std::memcpy(&app_addr_, from, from->sa_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
    app_pinned_ = true;
  }
  auto h = socks5::parse_udp(bytes_of(data, len));
  if (h.status != Parse::done) {
    ++udp_.malformed;
    return;
  }
  if (h.value.frag != 0) {
    // No reassembly: RFC 1928 §7 says drop.
    ++udp_.frag;
    return;
  }
  touch();
  ++udp_.up;
  const char* payload = data + h.value.payload_offset;
  const size_t payload_len = len - h.value.payload_offset;
  if (!via_concentrator()) {
    udp_send_to(h.value.destination, payload, payload_len);
    return;
  }
  if (datagram_ && !dg_fallback_) {
    const auto choice = config::choose_udp(cfg_.udp, h.value.destination.host(), h.value.destination.port);
    // Until some path has answered a probe, the datagram goes framed: a
    // datagram sent into a path that drops UDP silently would be lost.
    const auto states = udp_path_states();
    const bool any_live = std::any_of(states.begin(), states.end(), [](const auto& st) { return st.live; });
    if (choice.datagram && any_live && send_datagram(h.value.destination, payload, payload_len, choice.scheduler))
      return;
  }
  Bytes frame;
  wire::encode_datagram(h.value.destination, bytes_of(payload, payload_len), frame);
  up_frames_->push(std::move(frame), uv_now(loop()));
  flush_frames_up();
}

void ClientSession::flush_frames_up() {
  while (up_frames_ && upstream_queued() < net::kFramedStreamHigh) {
    auto f = up_frames_->pop(uv_now(loop()));
    if (!f) break;
    send_up(f->data(), f->size());
  }
}

void ClientSession::on_drained(bool upstream) {
  if (upstream && state_ == State::udp) flush_frames_up();
}

void ClientSession::on_udp_frames() {
  for (;;) {
    auto d = wire::decode_datagram(bytes_of(up_in_));
    if (d.status == Parse::need_more) return;
    if (d.status == Parse::error) {
      close(std::string("the concentrator sent a bad UDP frame: ") + wire::status_name(d.code));
      return;
    }
    deliver_to_app(d.value.address, d.value.payload.data(), d.value.payload.size());
    up_in_.erase(0, d.consumed);
  }
}

void ClientSession::on_udp_reply(const sockaddr* from, const char* data, size_t len) {
  deliver_to_app(Destination::from_sockaddr(from), data, len);
}

void ClientSession::deliver_to_app(const Destination& from, const char* data, size_t len) {
  if (!app_pinned_) return;  // the client has not sent anything yet: nowhere to deliver
  Bytes out;
  socks5::encode_udp(from, bytes_of(data, len), out);
  uv_buf_t b = uv_buf_init(reinterpret_cast<char*>(out.data()), static_cast<unsigned>(out.size()));
  if (uv_udp_try_send(app_udp_, &b, 1, reinterpret_cast<const sockaddr*>(&app_addr_)) >= 0) ++udp_.down;
}

void ClientSession::datagram_start() {
  dg_started_ms_ = uv_now(loop());
  // One socket per path, each pinned to its interface, so every path has its
  // own route and NAT binding to the concentrator's UDP port. A concentrator
  // on loopback (tests, local runs) gets one unbound socket.
  std::vector<ClientHooks::UdpPathInfo> infos;
  if (hooks_ && !is_loopback(conc_udp_)) infos = hooks_->udp_paths();
  if (infos.empty()) infos.push_back({});
  for (size_t i = 0; i < infos.size() && i < 255; ++i) {
    auto path = std::make_unique<UdpPath>();
    path->id = static_cast<uint8_t>(i);
    path->name = infos[i].name;
    path->backup = infos[i].backup;
    path->weight = infos[i].weight;
    path->sock = new_udp();
    sockaddr_storage any{};
    any.ss_family = conc_udp_.ss_family;
    if (any.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6*>(&any)->sin6_addr = in6addr_any;
    int rc = uv_udp_bind(path->sock, reinterpret_cast<const sockaddr*>(&any), 0);
    uv_os_fd_t fd = -1;
    if (rc == 0 && !path->name.empty() && uv_fileno(reinterpret_cast<uv_handle_t*>(path->sock), &fd) == 0) {
      if (int b = platform::bind_to_device(fd, path->name); b < 0)
        BRAID_LOG(warn, "[s%llu] datagram path %s: cannot bind: %s", static_cast<unsigned long long>(id()),
                  path->name.c_str(), net::describe_error(b).c_str());
    }
    if (rc == 0) {
      // The socket's data points at the session; the path is found by handle.
      rc = uv_udp_recv_start(
          path->sock,
          alloc_datagram,
          [](uv_udp_t* h, ssize_t n, const uv_buf_t* buf, const sockaddr* from, unsigned) {
            auto* s = static_cast<ClientSession*>(static_cast<net::Session*>(h->data));
            if (n > 0 && from && !s->closing()) {
              // Only the concentrator's UDP port speaks on these sockets. Its
              // address may differ per path (a multi-homed concentrator answers
              // from the address routing picks), so the port is what is checked;
              // the tag and direction bit do the rest.
              const bool from_concentrator =
                  Destination::from_sockaddr(from).port ==
                  Destination::from_sockaddr(reinterpret_cast<const sockaddr*>(&s->conc_udp_)).port;
              for (auto& p : s->udp_paths_)
                if (p->sock == h && from_concentrator) s->on_path_packet(*p, buf->base, static_cast<size_t>(n));
                else if (p->sock == h) ++s->dg_rejected_;
            }
            std::free(buf->base);
          });
    }
    if (rc < 0) {
      BRAID_LOG(warn, "[s%llu] datagram path %s: %s", static_cast<unsigned long long>(id()), path->name.c_str(),
                net::describe_error(rc).c_str());
      continue;
    }
    udp_paths_.push_back(std::move(path));
  }
  probe_timer_ = new_timer();
  send_probes();
}

std::vector<paths::UdpPathState> ClientSession::udp_path_states() const {
  const uint64_t interval_us = uint64_t{cfg_.udp.probe_interval_ms} * 1000;
  const uint64_t now_us = uv_hrtime() / 1000;
  std::vector<paths::UdpPathState> out;
  for (const auto& p : udp_paths_) {
    paths::UdpPathState st;
    st.id = p->id;
    st.backup = p->backup;
    st.weight = p->weight;
    st.live = p->probes.live(now_us, interval_us);
    st.rtt_us = p->probes.srtt_us();
    st.loss_percent = p->probes.loss_percent(now_us, interval_us);
    out.push_back(st);
  }
  return out;
}

// The probe timer's tick: regular probes every interval on every path, a
// retry on a path whose last probe went unanswered (so a dead path is found
// in a few RTTs, not intervals), and a probe round at once when a path's
// liveness changes, so the concentrator hears of it on the paths that work.
void ClientSession::send_probes() {
  if (closing() || !probe_timer_) return;
  const uint64_t interval_us = uint64_t{cfg_.udp.probe_interval_ms} * 1000;
  uint64_t now_us = uv_hrtime() / 1000;
  auto states = udp_path_states();
  bool changed = false;
  for (size_t i = 0; i < udp_paths_.size(); ++i) {
    auto& p = *udp_paths_[i];
    if (states[i].live != p.was_live) {
      changed = true;
      BRAID_LOG(info, "[s%llu] datagram path %s %s", static_cast<unsigned long long>(id()),
                p.name.empty() ? "(default)" : p.name.c_str(),
                states[i].live ? "answers probes: live" : "stopped answering probes: dead");
      p.was_live = states[i].live;
    }
  }
  datagram::Packet probe;
  probe.type = datagram::Type::probe;
  probe.association = association_;
  probe.interval_ms = static_cast<uint16_t>(std::min<uint32_t>(cfg_.udp.probe_interval_ms, 65535));
  for (const auto& st : states) probe.paths.push_back({st.id, st.live, st.backup, st.rtt_us, st.loss_percent});
  for (auto& p : udp_paths_) {
    now_us = uv_hrtime() / 1000;
    const bool regular = now_us >= p->next_probe_us;
    const bool retry = !regular && (changed || p->probes.retry_due(now_us, interval_us));
    if (!regular && !retry) continue;
    // Stamped per path, so the sends before it do not count in its RTT.
    probe.sent_us = now_us;
    probe.seq = dg_seq_++;
    probe.path = p->id;
    const Bytes packet = datagram::encode(probe, key_, datagram::Direction::upstream);
    uv_buf_t b = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(packet.data())),
                             static_cast<unsigned>(packet.size()));
    uv_udp_try_send(p->sock, &b, 1, reinterpret_cast<const sockaddr*>(&conc_udp_));
    p->probes.sent(now_us, retry);
    if (regular)
      p->next_probe_us = p->next_probe_us ? std::max(p->next_probe_us + interval_us, now_us + interval_us / 2)
                                          : now_us + interval_us;
  }
  // The next tick: the next regular probe or answer deadline, whichever is first.
  uint64_t next_us = UINT64_MAX;
  for (const auto& p : udp_paths_) {
    next_us = std::min(next_us, p->next_probe_us);
    if (const uint64_t c = p->probes.next_check_us(interval_us)) next_us = std::min(next_us, c);
  }
  now_us = uv_hrtime() / 1000;
  const uint64_t wait_ms = next_us == UINT64_MAX ? cfg_.udp.probe_interval_ms
                           : next_us <= now_us  ? 1
                                                : (next_us - now_us + 999) / 1000;
  uv_timer_start(
      probe_timer_, [](uv_timer_t* t) { static_cast<ClientSession*>(static_cast<net::Session*>(t->data))->send_probes(); },
      wait_ms, 0);
  // No answer on any path for a while: UDP to the concentrator is blocked
  // here, so datagrams go framed over MPTCP until probes come back.
  const uint64_t now = uv_now(loop());
  bool any_live = false;
  for (const auto& st : states) any_live |= st.live;
  if (!any_live && !dg_fallback_ && now - dg_started_ms_ >= 3000) {
    dg_fallback_ = true;
    BRAID_LOG(warn, "[s%llu] no answer to datagram probes on any path for 3 s: UDP to the concentrator seems blocked; "
              "datagrams go framed over MPTCP until it answers", static_cast<unsigned long long>(id()));
  }
}

bool ClientSession::send_datagram(const Destination& to, const char* data, size_t len, const std::string& scheduler) {
  auto& sched = schedulers_[scheduler];
  if (!sched)
    sched = std::make_unique<paths::UdpScheduler>(paths::parse_scheduler(scheduler).value_or(paths::Scheduler::lowest_rtt));
  datagram::Packet p;
  p.type = datagram::Type::data;
  p.association = association_;
  p.seq = dg_seq_++;
  p.address = to;
  p.payload.assign(data, len);
  // The concentrator answers this destination with the same scheduler.
  p.sched = static_cast<uint8_t>(1 + static_cast<uint8_t>(sched->kind()));
  bool sent = false;
  for (uint8_t pid : sched->pick(udp_path_states())) {
    for (auto& path : udp_paths_) {
      if (path->id != pid) continue;
      p.path = pid;
      const Bytes packet = datagram::encode(p, key_, datagram::Direction::upstream);
      uv_buf_t b = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(packet.data())),
                               static_cast<unsigned>(packet.size()));
      if (uv_udp_try_send(path->sock, &b, 1, reinterpret_cast<const sockaddr*>(&conc_udp_)) >= 0) {
        sent = true;
        ++path->sent;
        ++dg_sent_;
      }
    }
  }
  return sent;
}

void ClientSession::on_path_packet(UdpPath& path, const char* data, size_t len) {
  datagram::Packet p;
  if (datagram::decode(bytes_of(data, len), key_, datagram::Direction::downstream, p) != datagram::Error::none ||
      p.association != association_) {
    ++dg_rejected_;
    return;
  }
  if (!dg_replay_.accept(p.seq)) {
    ++dg_duplicates_;  // the copy that lost the race on the other path
    return;
  }
  ++path.received;
  if (p.type == datagram::Type::probe_reply) {
    path.probes.answered(p.sent_us, uv_hrtime() / 1000);
    path.rtt_us = path.probes.srtt_us();
    path.last_reply_ms = uv_now(loop());
    if (!path.was_live) send_probes();  // back: tell the concentrator now
    if (dg_fallback_) {
      dg_fallback_ = false;
      BRAID_LOG(info, "[s%llu] datagram probes answered again on %s: back to the datagram carrier",
                static_cast<unsigned long long>(id()), path.name.empty() ? "the default path" : path.name.c_str());
    }
    return;
  }
  if (p.type == datagram::Type::data) {
    touch();
    ++dg_received_;
    deliver_to_app(p.address, p.payload.data(), p.payload.size());
  }
}

}  // namespace braid::client
