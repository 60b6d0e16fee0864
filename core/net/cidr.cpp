#include "net/cidr.hpp"

#include <charconv>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>

namespace braid::net {

namespace {

bool fail(std::string* error, std::string why) {
  if (error) *error = std::move(why);
  return false;
}

// ::ffff:0:0/96 (RFC 4291 §2.5.5.2).
bool is_v4_mapped(const uint8_t* b) {
  static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(b, prefix, sizeof prefix) == 0;
}

IpAddress from_v6_bytes(const uint8_t* b) {
  IpAddress a;
  if (is_v4_mapped(b)) {
    std::memcpy(a.bytes.data(), b + 12, 4);
    return a;
  }
  a.v6 = true;
  std::memcpy(a.bytes.data(), b, 16);
  return a;
}

std::optional<unsigned> parse_number(std::string_view s, unsigned max) {
  unsigned v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || v > max) return std::nullopt;
  return v;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<IpAddress> IpAddress::from_sockaddr(const sockaddr* sa) {
  if (!sa) return std::nullopt;
  if (sa->sa_family == AF_INET) {
    IpAddress a;
    std::memcpy(a.bytes.data(), &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, 4);
    return a;
  }
  if (sa->sa_family == AF_INET6)
    return from_v6_bytes(reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr));
  return std::nullopt;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string s(text);
  uint8_t buf[16] = {};
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) {
    IpAddress a;
    std::memcpy(a.bytes.data(), buf, 4);
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) return from_v6_bytes(buf);
  return std::nullopt;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
}

std::optional<Cidr> Cidr::parse(std::string_view text, std::string* error) {
  text = trim(text);
  Cidr c;
  if (text == "any") {
    c.any = true;
    return c;
  }
  const size_t slash = text.find('/');
  const std::string_view addr = text.substr(0, slash);
  auto a = IpAddress::parse(addr);
  if (!a) {
    fail(error, "\"" + std::string(addr) + "\" is not an IPv4 or IPv6 address");
    return std::nullopt;
  }
  // A mapped address written in IPv6 form keeps its IPv6 prefix length
  // meaning: ::ffff:10.0.0.0/104 is 10.0.0.0/8.
  const bool written_v6 = addr.find(':') != std::string_view::npos;
  const unsigned max = written_v6 ? 128 : 32;
  unsigned len = a->v6 ? 128 : 32;
  if (slash != std::string_view::npos) {
    auto n = parse_number(text.substr(slash + 1), max);
    if (!n) {
      fail(error, "prefix length \"" + std::string(text.substr(slash + 1)) + "\" is not a number from 0 to " +
                      std::to_string(max));
      return std::nullopt;
    }
    len = *n;
    if (written_v6 && !a->v6) {
      if (len < 96) {
        fail(error, "an IPv4-mapped prefix needs a length of at least 96");
        return std::nullopt;
      }
      len -= 96;
    }
  }
  c.base = *a;
  c.prefix = static_cast<uint8_t>(len);
  // Clear the host bits so that "10.1.2.3/8" means 10.0.0.0/8.
  const size_t total = c.base.v6 ? 16 : 4;
  for (size_t i = 0; i < total; ++i) {
    const int keep = static_cast<int>(len) - static_cast<int>(i * 8);
    if (keep >= 8) continue;
    c.base.bytes[i] = keep <= 0 ? 0 : static_cast<uint8_t>(c.base.bytes[i] & (0xff << (8 - keep)));
  }
  return c;
}

bool Cidr::contains(const IpAddress& a) const {
  if (any) return true;
  if (a.v6 != base.v6) {
    if (!base.v6) return false;
    // An IPv6 prefix covers the IPv4 addresses whose mapped form it covers
    // (::/0 covers them all, ::ffff:0:0/96 too).
    IpAddress mapped;
    mapped.v6 = true;
    mapped.bytes[10] = mapped.bytes[11] = 0xff;
    std::memcpy(mapped.bytes.data() + 12, a.bytes.data(), 4);
    return contains(mapped);
  }
  const size_t full = prefix / 8;
  if (std::memcmp(a.bytes.data(), base.bytes.data(), full) != 0) return false;
  const unsigned rest = prefix % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a.bytes[full] & mask) == base.bytes[full];
}

std::string Cidr::to_string() const {
  if (any) return "any";
  return base.to_string() + "/" + std::to_string(prefix);
}

std::optional<AddressRule> AddressRule::parse(std::string_view text, std::string* error) {
  text = trim(text);
  AddressRule r;
  const size_t space = text.find_first_of(" \t");
  auto net = Cidr::parse(text.substr(0, space), error);
  if (!net) return std::nullopt;
  r.net = *net;
  if (space == std::string_view::npos) return r;
  std::string_view rest = trim(text.substr(space));
  if (rest.substr(0, 5) != "port " && rest.substr(0, 5) != "port\t") {
    fail(error, "expected \"port N\" or \"port N-M\" after the address, got \"" + std::string(rest) + "\"");
    return std::nullopt;
  }
  rest = trim(rest.substr(5));
  const size_t dash = rest.find('-');
  auto low = parse_number(trim(rest.substr(0, dash)), 65535);
  auto high = dash == std::string_view::npos ? low : parse_number(trim(rest.substr(dash + 1)), 65535);
  if (!low || !high || *low > *high) {
    fail(error, "ports must be N or N-M with 0 <= N <= M <= 65535, got \"" + std::string(rest) + "\"");
    return std::nullopt;
  }
  r.port_low = static_cast<uint16_t>(*low);
  r.port_high = static_cast<uint16_t>(*high);
  return r;
}

std::string AddressRule::to_string() const {
  std::string s = net.to_string();
  if (port_low == 0 && port_high == 65535) return s;
  s += " port " + std::to_string(port_low);
  if (port_high != port_low) s += "-" + std::to_string(port_high);
  return s;
}

}  // namespace braid::net
