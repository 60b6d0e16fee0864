#include "concentrator/destination_policy.hpp"

#include <algorithm>
#include <cstring>

#include <netinet/in.h>

namespace braid::concentrator {

namespace {

DestinationPolicy::Range range(const char* cidr, const char* what) { return {*net::Cidr::parse(cidr), what}; }

// The IPv4 address inside a NAT64 address (64:ff9b::/96, RFC 6052 §2.1).
std::optional<net::IpAddress> nat64_embedded(const net::IpAddress& a) {
  static const uint8_t prefix[12] = {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (!a.v6 || std::memcmp(a.bytes.data(), prefix, sizeof prefix) != 0) return std::nullopt;
  net::IpAddress v4;
  std::memcpy(v4.bytes.data(), a.bytes.data() + 12, 4);
  return v4;
}

}  // namespace

const std::vector<DestinationPolicy::Range>& DestinationPolicy::builtin_refusals() {
  // RFC 6890 special-purpose registries, the parts that lead back into the
  // concentrator or its networks rather than to the internet.
  static const std::vector<Range> ranges = {
      range("0.0.0.0/8", "unspecified (\"this network\")"),  // connect() to 0.0.0.0 reaches loopback
      range("127.0.0.0/8", "loopback"),
      range("10.0.0.0/8", "private"),
      range("172.16.0.0/12", "private"),
      range("192.168.0.0/16", "private"),
      range("100.64.0.0/10", "shared address space (CGNAT)"),
      range("169.254.0.0/16", "link-local"),
      range("224.0.0.0/4", "multicast"),
      range("240.0.0.0/4", "reserved or broadcast"),
      range("::/128", "unspecified"),
      range("::1/128", "loopback"),
      range("fe80::/10", "link-local"),
      range("fec0::/10", "site-local"),
      range("fc00::/7", "private (unique local)"),
      range("ff00::/8", "multicast"),
  };
  return ranges;
}

PolicyVerdict DestinationPolicy::check(const net::IpAddress& a, uint16_t port) const {
  const auto embedded = nat64_embedded(a);
  auto rule_matches = [&](const net::AddressRule& r) {
    return r.matches(a, port) || (embedded && r.matches(*embedded, port));
  };
  for (const auto& r : rules_.deny)
    if (rule_matches(r)) return {false, "destinations.deny \"" + r.to_string() + "\""};
  const auto own_match = [&](const net::IpAddress& x) { return std::find(own_.begin(), own_.end(), x) != own_.end(); };
  if (own_match(a) || (embedded && own_match(*embedded))) {
    for (const auto& r : rules_.allow)
      if (r.net.is_host() && rule_matches(r)) return {true, "destinations.allow \"" + r.to_string() + "\""};
    return {false, "the concentrator's own address"};
  }
  for (const auto& r : rules_.allow)
    if (rule_matches(r)) return {true, "destinations.allow \"" + r.to_string() + "\""};
  for (const auto& r : builtin_refusals()) {
    if (r.cidr.contains(a)) return {false, std::string(r.what) + " (" + r.cidr.to_string() + ")"};
    if (embedded && r.cidr.contains(*embedded))
      return {false, std::string(r.what) + " (" + r.cidr.to_string() + " inside NAT64)"};
  }
  return {};
}

PolicyVerdict DestinationPolicy::check(const sockaddr* to) const {
  auto a = net::IpAddress::from_sockaddr(to);
  if (!a) return {false, "not an IP address"};
  const uint16_t port = to->sa_family == AF_INET ? ntohs(reinterpret_cast<const sockaddr_in*>(to)->sin_port)
                                                 : ntohs(reinterpret_cast<const sockaddr_in6*>(to)->sin6_port);
  return check(*a, port);
}

}  // namespace braid::concentrator
