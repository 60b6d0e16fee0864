// The concentrator's UDP port for the multipath datagram carrier: one socket
// beside the MPTCP listener, associations registered by id, packets routed
// to the session that owns their association.
#pragma once

#include <cstdint>

#include <sys/socket.h>

#include "net/bytes.hpp"

namespace braid::concentrator {

class ServerSession;

class DatagramHub {
 public:
  virtual ~DatagramHub() = default;
  /// A fresh association id for @p s (never 0), or 0 when the UDP port is not open.
  virtual uint32_t register_association(ServerSession* s) = 0;
  virtual void unregister_association(uint32_t id) = 0;
  /// Sends one packet from the concentrator's UDP port; false when dropped.
  virtual bool send_packet(const sockaddr* to, const Bytes& packet) = 0;
  /// The UDP port clients send to.
  virtual uint16_t udp_port() const = 0;
};

}  // namespace braid::concentrator
