#include "tunnel/wire.hpp"

#include "socks5/codec.hpp"

namespace braid::wire {

const char* status_name(uint8_t status) {
  switch (status) {
    case kTimedOut: return "timed out";
    case kKindNotSupported: return "kind not supported";
    case kUnsupportedVersion: return "unsupported protocol version";
    case kBadToken: return "unknown user or wrong token";
    case kMalformed: return "malformed request";
    case kBusy: return "concentrator at its connection limit";
    default: return socks5::reply_name(status);
  }
}

uint8_t to_socks_reply(uint8_t status) {
  if (status <= kAddressTypeNotSupported) return status;
  if (status == kBadToken) return socks5::kNotAllowed;
  return socks5::kGeneralFailure;
}

int to_http_status(uint8_t status) { return status == kTimedOut ? 504 : 502; }

void encode_request(const Request& r, Bytes& out) {
  out.push_back(kVersion);
  out.push_back(static_cast<uint8_t>(r.kind));
  out.push_back(0x00);  // FLAGS, reserved
  out.push_back(static_cast<uint8_t>(r.user.size()));
  out.insert(out.end(), r.user.begin(), r.user.end());
  out.push_back(static_cast<uint8_t>(r.token.size()));
  out.insert(out.end(), r.token.begin(), r.token.end());
  encode_address(r.destination, out);
}

ParseResult<Request> decode_request(ByteSpan in) {
  using R = ParseResult<Request>;
  if (in.empty()) return R::more();
  if (byte_at(in, 0) != kVersion) return R::fail(kUnsupportedVersion);
  if (in.size() < 4) return R::more();
  if (byte_at(in, 2) != 0x00) return R::fail(kMalformed);
  const size_t ulen = byte_at(in, 3);
  if (ulen == 0) return R::fail(kMalformed);
  if (in.size() < 4 + ulen + 1) return R::more();
  const size_t tlen = byte_at(in, 4 + ulen);
  if (tlen == 0) return R::fail(kMalformed);
  const size_t fixed = 4 + ulen + 1 + tlen;
  if (in.size() < fixed) return R::more();
  auto addr = decode_address(in.subspan(fixed));
  if (addr.status == Parse::need_more) return R::more();
  if (addr.status == Parse::error)
    return R::fail(addr.code == socks5::kAddressTypeNotSupported ? kAddressTypeNotSupported : kMalformed);
  Request r;
  r.kind = static_cast<Kind>(byte_at(in, 1));
  r.user.assign(reinterpret_cast<const char*>(in.data() + 4), ulen);
  r.token.assign(reinterpret_cast<const char*>(in.data() + 4 + ulen + 1), tlen);
  r.destination = std::move(addr.value);
  return R::ok(fixed + addr.consumed, std::move(r));
}

void encode_reply(const Reply& r, Bytes& out) {
  out.push_back(kVersion);
  out.push_back(r.status);
  encode_address(r.bound.type == Destination::Type::domain ? Destination::ipv4_any() : r.bound, out);
}

ParseResult<Reply> decode_reply(ByteSpan in) {
  using R = ParseResult<Reply>;
  if (in.empty()) return R::more();
  if (byte_at(in, 0) != kVersion) return R::fail(kUnsupportedVersion);
  if (in.size() < 2) return R::more();
  auto addr = decode_address(in.subspan(2));
  if (addr.status == Parse::need_more) return R::more();
  if (addr.status == Parse::error)
    return R::fail(addr.code == socks5::kAddressTypeNotSupported ? kAddressTypeNotSupported : kMalformed);
  Reply r;
  r.status = byte_at(in, 1);
  r.bound = std::move(addr.value);
  return R::ok(2 + addr.consumed, std::move(r));
}

void encode_datagram(const Destination& address, ByteSpan payload, Bytes& out) {
  Bytes addr;
  encode_address(address, addr);
  put_be16(out, static_cast<uint16_t>(addr.size() + payload.size()));
  out.insert(out.end(), addr.begin(), addr.end());
  for (auto b : payload) out.push_back(std::to_integer<uint8_t>(b));
}

ParseResult<Datagram> decode_datagram(ByteSpan in) {
  using R = ParseResult<Datagram>;
  if (in.size() < 2) return R::more();
  const size_t len = be16_at(in, 0);
  if (in.size() < 2 + len) return R::more();
  auto frame = in.subspan(2, len);
  auto addr = decode_address(frame);
  if (addr.status == Parse::error)
    return R::fail(addr.code == socks5::kAddressTypeNotSupported ? kAddressTypeNotSupported : kMalformed);
  if (addr.status == Parse::need_more) return R::fail(kMalformed);
  const size_t payload = len - addr.consumed;
  if (payload > kMaxDatagram) return R::fail(kMalformed);
  Datagram d;
  d.address = std::move(addr.value);
  d.payload.assign(reinterpret_cast<const char*>(frame.data() + addr.consumed), payload);
  return R::ok(2 + len, std::move(d));
}

bool token_equal(const std::string& a, const std::string& b) {
  // Length is not secret (RFC 1929 sends it in clear); the contents are
  // compared without an early exit.
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace braid::wire
