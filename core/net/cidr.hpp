// Address ranges in CIDR notation (RFC 4632; IPv6 RFC 4291 §2.3), with an
// optional port range, for the concentrator's destination policy. Pure
// functions: no sockets, no DNS.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <sys/socket.h>

namespace braid::net {

/**
 * An IP address as the policy sees it. An IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) is folded to the IPv4 address it names:
 * the kernel connects to exactly that IPv4 address, so a rule for one must
 * hold for the other.
 */
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  ///< network order; first 4 bytes for IPv4

  /// Nullopt for anything that is not AF_INET / AF_INET6.
  static std::optional<IpAddress> from_sockaddr(const sockaddr* sa);
  /// A literal "1.2.3.4" or "2001:db8::1" (no brackets, no port).
  static std::optional<IpAddress> parse(std::string_view text);
  std::string to_string() const;
  bool operator==(const IpAddress&) const = default;
};

/// A prefix: "10.0.0.0/8", "fe80::/10"; a bare address is a host prefix
/// (/32 or /128). `any` matches every address of both families.
struct Cidr {
  bool any = false;
  IpAddress base;  ///< bits past the prefix are zero
  uint8_t prefix = 0;

  /// Errors name what is wrong ("prefix length 33 is over 32 for IPv4").
  static std::optional<Cidr> parse(std::string_view text, std::string* error = nullptr);
  bool contains(const IpAddress& a) const;
  /// True for a single address (/32, /128).
  bool is_host() const { return !any && prefix == (base.v6 ? 128 : 32); }
  std::string to_string() const;
};

/**
 * A policy entry: "ADDR[/LEN] [port P[-Q]]", for example "10.31.9.0/24",
 * "192.168.1.5", "any port 25", "0.0.0.0/0 port 8000-8999". Without a port
 * range it covers every port.
 */
struct AddressRule {
  Cidr net;
  uint16_t port_low = 0;
  uint16_t port_high = 65535;

  static std::optional<AddressRule> parse(std::string_view text, std::string* error = nullptr);
  bool matches(const IpAddress& a, uint16_t port) const {
    return port >= port_low && port <= port_high && net.contains(a);
  }
  /// The rule in its canonical written form.
  std::string to_string() const;
};

}  // namespace braid::net
