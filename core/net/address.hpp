// Destinations as SOCKS5 and Braid's wire protocol carry them (IPv4, IPv6 or
// a domain name with a port), and conversions to and from socket addresses.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <netdb.h>
#include <sys/socket.h>

#include "net/bytes.hpp"

namespace braid {

/// A destination: an IPv4 or IPv6 address, or a domain name, and a port.
struct Destination {
  /// Values are SOCKS5's ATYP (RFC 1928 §4); the wire protocol reuses them.
  enum class Type : uint8_t { ipv4 = 1, domain = 3, ipv6 = 4 };

  Type type = Type::ipv4;
  std::array<uint8_t, 16> ip{};  ///< network order; first 4 bytes for IPv4
  std::string domain;            ///< for Type::domain, 1..255 bytes
  uint16_t port = 0;

  /// "1.2.3.4:80", "[::1]:443" or "example.com:80".
  std::string to_string() const;
  /// Host part alone, without brackets or port.
  std::string host() const;
  /// Fills @p out for an IP destination; false for a domain.
  bool to_sockaddr(sockaddr_storage& out) const;
  static Destination from_sockaddr(const sockaddr* sa);
  static Destination ipv4_any() { return Destination{}; }
  bool operator==(const Destination&) const = default;
};

/**
 * Parses "host:port", "[v6]:port" or "v4:port". A host that is a literal
 * address becomes an IP destination, anything else a domain.
 */
std::optional<Destination> parse_host_port(std::string_view text, std::string* error = nullptr);

/// Makes a destination from a host (literal or name) and a port.
std::optional<Destination> make_destination(std::string_view host, uint16_t port);

/// Decodes ATYP ADDR PORT (RFC 1928 §4/§5). Errors: code 8 (address type not
/// supported) for an unknown ATYP, code 1 for a zero-length domain.
ParseResult<Destination> decode_address(ByteSpan in);

/// Appends ATYP ADDR PORT for @p d to @p out.
void encode_address(const Destination& d, Bytes& out);

/// "local>remote": names one subflow or connection by its two endpoints.
std::string endpoint_pair_key(const sockaddr_storage& local, const sockaddr_storage& remote);

/// True for 127.0.0.0/8 and ::1.
bool is_loopback(const sockaddr_storage& a);

/// "1.2.3.4:80" / "[::1]:80" for a socket address.
std::string sockaddr_to_string(const sockaddr* sa);

/// The IPv4 and IPv6 addresses of a getaddrinfo() answer, in its order.
std::vector<sockaddr_storage> socket_addresses(const addrinfo* list);

}  // namespace braid
