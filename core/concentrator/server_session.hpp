// One client connection at the concentrator: reads the wire request, checks
// the token, connects to the destination, answers with a status and relays.
#pragma once

#include "config/config.hpp"
#include <memory>

#include "net/datagram_queue.hpp"
#include "net/session.hpp"
#include "tunnel/wire.hpp"

namespace braid::concentrator {

class ServerSession final : public net::Session {
 public:
  ServerSession(uv_loop_t* loop, uint64_t id, const config::ConcentratorConfig& cfg, net::SessionOwner& owner);
  /// Answers "busy" at once and closes (the connection limit is reached).
  void refuse_busy();

 private:
  enum class State { request, connecting, relaying, udp };

  void on_downstream_bytes() override;
  void on_resolved(int status, std::vector<sockaddr_storage> addrs) override;
  void on_dialed(int status) override;
  void on_handshake_timeout() override;
  void on_downstream_eof_in_handshake() override;
  void answer_and_close(uint8_t status, const std::string& why);

  // UDP framed carrier
  void start_udp();
  void on_udp_frames();
  void flush_frames_down();
  void on_drained(bool upstream) override;
  void on_udp_reply(const sockaddr* from, const char* data, size_t len) override;
  void on_closing() override;
  std::unique_ptr<net::DatagramQueue> down_frames_;
  uint64_t udp_up_ = 0, udp_down_ = 0;

  const config::ConcentratorConfig& cfg_;
  State state_ = State::request;
  Destination target_;
};

}  // namespace braid::concentrator
