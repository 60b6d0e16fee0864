// One local application's connection: speaks SOCKS5 or HTTP proxy to the
// application, opens the upstream (concentrator or direct) and relays.
#pragma once

#include <string>

#include "client/engine.hpp"
#include "net/session.hpp"

namespace braid::client {

class ClientSession final : public net::Session {
 public:
  ClientSession(uv_loop_t* loop, uint64_t id, const config::ClientConfig& cfg, Frontend frontend,
                net::SessionOwner& owner);

 private:
  enum class State { detect, socks_greeting, socks_auth, socks_request, http_head, connecting, awaiting_reply, relaying };
  enum class App { socks5, http_connect, http_forward };

  void on_downstream_bytes() override;
  void on_upstream_bytes() override;
  void on_resolved(int status, std::vector<sockaddr_storage> addrs) override;
  void on_dialed(int status) override;
  void on_handshake_timeout() override;
  void on_downstream_eof_in_handshake() override;
  void on_closing() override;

  bool step();  // one handshake step; false when more bytes are needed or the session ended
  bool socks_greeting();
  bool socks_auth();
  bool socks_request();
  bool http_head();
  void open_upstream();
  void upstream_ready(const Destination& bound);
  void upstream_failed(uint8_t socks_reply, int http_status, const std::string& why);
  bool via_concentrator() const { return cfg_.concentrator.has_value(); }

  const config::ClientConfig& cfg_;
  Frontend frontend_;
  State state_ = State::detect;
  App app_ = App::socks5;
  Destination target_;
  std::string early_;  ///< bytes the upstream gets first (a rewritten HTTP head)
};

}  // namespace braid::client
