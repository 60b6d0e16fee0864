#include "net/address.hpp"

#include <charconv>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>

namespace braid {

std::string Destination::host() const {
  char buf[INET6_ADDRSTRLEN] = {};
  switch (type) {
    case Type::ipv4:
      inet_ntop(AF_INET, ip.data(), buf, sizeof buf);
      return buf;
    case Type::ipv6:
      inet_ntop(AF_INET6, ip.data(), buf, sizeof buf);
      return buf;
    case Type::domain:
      return domain;
  }
  return {};
}

std::string Destination::to_string() const {
  if (type == Type::ipv6) return "[" + host() + "]:" + std::to_string(port);
  return host() + ":" + std::to_string(port);
}

bool Destination::to_sockaddr(sockaddr_storage& out) const {
  std::memset(&out, 0, sizeof out);
  if (type == Type::ipv4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, ip.data(), 4);
    return true;
  }
  if (type == Type::ipv6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    std::memcpy(&sin6->sin6_addr, ip.data(), 16);
    return true;
  }
  return false;
}

Destination Destination::from_sockaddr(const sockaddr* sa) {
  Destination d;
  if (sa && sa->sa_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
    d.type = Type::ipv4;
    std::memcpy(d.ip.data(), &sin->sin_addr, 4);
    d.port = ntohs(sin->sin_port);
  } else if (sa && sa->sa_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
    d.type = Type::ipv6;
    std::memcpy(d.ip.data(), &sin6->sin6_addr, 16);
    d.port = ntohs(sin6->sin6_port);
  }
  return d;
}

std::optional<Destination> make_destination(std::string_view host, uint16_t port) {
  if (host.empty() || host.size() > 255) return std::nullopt;
  Destination d;
  d.port = port;
  std::string h(host);
  if (inet_pton(AF_INET, h.c_str(), d.ip.data()) == 1) {
    d.type = Destination::Type::ipv4;
  } else if (inet_pton(AF_INET6, h.c_str(), d.ip.data()) == 1) {
    d.type = Destination::Type::ipv6;
  } else {
    d.type = Destination::Type::domain;
    d.domain = std::move(h);
  }
  return d;
}

std::optional<Destination> parse_host_port(std::string_view text, std::string* error) {
  auto fail = [&](const char* why) -> std::optional<Destination> {
    if (error) *error = why;
    return std::nullopt;
  };
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return fail("missing ']' after an IPv6 address");
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':') return fail("expected ':' and a port after ']'");
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail("expected HOST:PORT");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return fail("write IPv6 addresses as [ADDR]:PORT");
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || value > 65535)
    return fail("the port must be a number from 0 to 65535");
  auto d = make_destination(host, static_cast<uint16_t>(value));
  if (!d) return fail("the host is empty or longer than 255 bytes");
  if (d->type == Destination::Type::domain && text.front() == '[') return fail("not an IPv6 address inside [ ]");
  return d;
}

ParseResult<Destination> decode_address(ByteSpan in) {
  using R = ParseResult<Destination>;
  if (in.empty()) return R::more();
  Destination d;
  size_t addr_len = 0, offset = 1;
  switch (byte_at(in, 0)) {
    case 1:
      d.type = Destination::Type::ipv4;
      addr_len = 4;
      break;
    case 4:
      d.type = Destination::Type::ipv6;
      addr_len = 16;
      break;
    case 3:
      d.type = Destination::Type::domain;
      if (in.size() < 2) return R::more();
      addr_len = byte_at(in, 1);
      offset = 2;
      if (addr_len == 0) return R::fail(1);
      break;
    default:
      return R::fail(8);
  }
  const size_t total = offset + addr_len + 2;
  if (in.size() < total) return R::more();
  if (d.type == Destination::Type::domain) {
    d.domain.assign(reinterpret_cast<const char*>(in.data() + offset), addr_len);
  } else {
    std::memcpy(d.ip.data(), in.data() + offset, addr_len);
  }
  d.port = be16_at(in, offset + addr_len);
  return R::ok(total, std::move(d));
}

void encode_address(const Destination& d, Bytes& out) {
  out.push_back(static_cast<uint8_t>(d.type));
  switch (d.type) {
    case Destination::Type::ipv4:
      out.insert(out.end(), d.ip.begin(), d.ip.begin() + 4);
      break;
    case Destination::Type::ipv6:
      out.insert(out.end(), d.ip.begin(), d.ip.end());
      break;
    case Destination::Type::domain:
      out.push_back(static_cast<uint8_t>(d.domain.size()));
      out.insert(out.end(), d.domain.begin(), d.domain.end());
      break;
  }
  put_be16(out, d.port);
}

std::string endpoint_pair_key(const sockaddr_storage& local, const sockaddr_storage& remote) {
  return sockaddr_to_string(reinterpret_cast<const sockaddr*>(&local)) + ">" +
         sockaddr_to_string(reinterpret_cast<const sockaddr*>(&remote));
}

bool is_loopback(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET) return (ntohl(reinterpret_cast<const sockaddr_in*>(&a)->sin_addr.s_addr) >> 24) == 127;
  return a.ss_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6*>(&a)->sin6_addr);
}

std::string sockaddr_to_string(const sockaddr* sa) {
  if (!sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)) return "?";
  return Destination::from_sockaddr(sa).to_string();
}

std::vector<sockaddr_storage> socket_addresses(const addrinfo* list) {
  std::vector<sockaddr_storage> out;
  for (const addrinfo* ai = list; ai; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    sockaddr_storage ss{};
    std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    out.push_back(ss);
  }
  return out;
}

}  // namespace braid
