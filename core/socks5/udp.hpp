// SOCKS5 UDP request header (RFC 1928 §7): RSV(2) FRAG ATYP DST.ADDR DST.PORT DATA.
// Pure functions; the relay in client/ uses them.
#pragma once

#include "net/address.hpp"
#include "net/bytes.hpp"

namespace braid::socks5 {

struct UdpHeader {
  uint8_t frag = 0;          ///< fragment number; 0 = a whole datagram
  Destination destination;   ///< where the client wants it sent (or where a reply came from)
  size_t payload_offset = 0; ///< DATA starts here
};

/**
 * Parses a whole datagram from the client. Errors: code 1 (reserved bytes not
 * zero, or truncated: a datagram is complete or it is nothing), code 8
 * (unknown address type). Never need_more: UDP has no partial messages.
 */
ParseResult<UdpHeader> parse_udp(ByteSpan datagram);

/// Appends RSV FRAG=0 ATYP ADDR PORT for @p from, then @p payload.
void encode_udp(const Destination& from, ByteSpan payload, Bytes& out);

}  // namespace braid::socks5
