#include "socks5/codec.hpp"

#include <algorithm>

namespace braid::socks5 {

const char* reply_name(uint8_t rep) {
  switch (rep) {
    case kSucceeded: return "succeeded";
    case kGeneralFailure: return "general SOCKS server failure";
    case kNotAllowed: return "connection not allowed by ruleset";
    case kNetworkUnreachable: return "network unreachable";
    case kHostUnreachable: return "host unreachable";
    case kConnectionRefused: return "connection refused";
    case kTtlExpired: return "TTL expired";
    case kCommandNotSupported: return "command not supported";
    case kAddressTypeNotSupported: return "address type not supported";
    default: return "unassigned";
  }
}

bool Greeting::offers(uint8_t m) const { return std::find(methods.begin(), methods.end(), m) != methods.end(); }

ParseResult<Greeting> parse_greeting(ByteSpan in) {
  using R = ParseResult<Greeting>;
  if (in.size() < 2) return in.empty() || byte_at(in, 0) == kVersion ? R::more() : R::fail(kGeneralFailure);
  if (byte_at(in, 0) != kVersion) return R::fail(kGeneralFailure);
  const size_t n = byte_at(in, 1);
  if (n == 0) return R::fail(kGeneralFailure);
  if (in.size() < 2 + n) return R::more();
  Greeting g;
  for (size_t i = 0; i < n; ++i) g.methods.push_back(byte_at(in, 2 + i));
  return R::ok(2 + n, std::move(g));
}

ParseResult<Credentials> parse_userpass(ByteSpan in) {
  using R = ParseResult<Credentials>;
  if (in.empty()) return R::more();
  if (byte_at(in, 0) != kUserPassVersion) return R::fail(kGeneralFailure);
  if (in.size() < 2) return R::more();
  const size_t ulen = byte_at(in, 1);
  if (ulen == 0) return R::fail(kGeneralFailure);
  if (in.size() < 2 + ulen + 1) return R::more();
  const size_t plen = byte_at(in, 2 + ulen);
  const size_t total = 3 + ulen + plen;
  if (in.size() < total) return R::more();
  Credentials c;
  c.username.assign(reinterpret_cast<const char*>(in.data() + 2), ulen);
  c.password.assign(reinterpret_cast<const char*>(in.data() + 3 + ulen), plen);
  return R::ok(total, std::move(c));
}

ParseResult<Request> parse_request(ByteSpan in) {
  using R = ParseResult<Request>;
  if (in.empty()) return R::more();
  if (byte_at(in, 0) != kVersion) return R::fail(kGeneralFailure);
  if (in.size() < 3) return R::more();
  if (byte_at(in, 2) != 0x00) return R::fail(kGeneralFailure);
  auto addr = decode_address(in.subspan(3));
  if (addr.status == Parse::need_more) return R::more();
  if (addr.status == Parse::error) return R::fail(addr.code);
  Request r;
  r.command = byte_at(in, 1);
  r.destination = std::move(addr.value);
  return R::ok(3 + addr.consumed, std::move(r));
}

Bytes method_selection(uint8_t method) { return {kVersion, method}; }

Bytes userpass_status(bool success) { return {kUserPassVersion, static_cast<uint8_t>(success ? 0x00 : 0x01)}; }

Bytes reply(uint8_t rep, const Destination& bound) {
  Bytes out{kVersion, rep, 0x00};
  // A domain is legal in BND.ADDR but clients expect an address; send the
  // unspecified IPv4 address when we have nothing better.
  if (bound.type == Destination::Type::domain) {
    encode_address(Destination::ipv4_any(), out);
  } else {
    encode_address(bound, out);
  }
  return out;
}

}  // namespace braid::socks5
