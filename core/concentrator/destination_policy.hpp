// Which destinations the concentrator connects to for its clients. Without
// a policy a concentrator on the internet is a door into its own network:
// loopback services, the LAN behind it, cloud metadata at 169.254.169.254.
// Pure: addresses in, a verdict out; the caller supplies the concentrator's
// own addresses (see Guard).
#pragma once

#include <string>
#include <vector>

#include <sys/socket.h>

#include "config/config.hpp"
#include "net/cidr.hpp"

namespace braid::concentrator {

struct PolicyVerdict {
  bool allowed = true;
  std::string reason;  ///< why it was refused ("loopback (127.0.0.0/8)"), or which allow rule let it through
};

/**
 * Order of the checks (docs/PROTOCOL.md, "Destination policy"):
 *   1. an explicit deny rule that matches refuses;
 *   2. the concentrator's own addresses are refused, unless an allow rule
 *      names that single address (/32 or /128): a broad allow such as
 *      10.0.0.0/8 does not open the concentrator itself;
 *   3. an explicit allow rule that matches allows;
 *   4. the built-in ranges (loopback, unspecified, private, CGNAT,
 *      link-local, multicast, broadcast/reserved) are refused;
 *   5. anything else is allowed.
 * IPv4-mapped IPv6 addresses are judged as the IPv4 address they map to,
 * NAT64 addresses (64:ff9b::/96, RFC 6052) also by the IPv4 address inside.
 */
class DestinationPolicy {
 public:
  DestinationPolicy() = default;
  explicit DestinationPolicy(config::Destinations rules) : rules_(std::move(rules)) {}

  /// The concentrator's interface addresses (loopback ones are covered by
  /// the built-in ranges and may be opened by a broad allow).
  void set_own_addresses(std::vector<net::IpAddress> own) { own_ = std::move(own); }
  const std::vector<net::IpAddress>& own_addresses() const { return own_; }

  PolicyVerdict check(const net::IpAddress& a, uint16_t port) const;
  /// For a socket address (its port counts); non-IP families are refused.
  PolicyVerdict check(const sockaddr* to) const;

  struct Range {
    net::Cidr cidr;
    const char* what;
  };
  /// The built-in refused ranges.
  static const std::vector<Range>& builtin_refusals();

 private:
  config::Destinations rules_;
  std::vector<net::IpAddress> own_;
};

}  // namespace braid::concentrator
