#include "socks5/udp.hpp"

#include "socks5/codec.hpp"

namespace braid::socks5 {

ParseResult<UdpHeader> parse_udp(ByteSpan d) {
  using R = ParseResult<UdpHeader>;
  if (d.size() < 4 || byte_at(d, 0) != 0 || byte_at(d, 1) != 0) return R::fail(kGeneralFailure);
  auto addr = decode_address(d.subspan(3));
  if (addr.status == Parse::error) return R::fail(addr.code);
  if (addr.status == Parse::need_more) return R::fail(kGeneralFailure);
  UdpHeader h;
  h.frag = byte_at(d, 2);
  h.destination = std::move(addr.value);
  h.payload_offset = 3 + addr.consumed;
  return R::ok(d.size(), std::move(h));
}

void encode_udp(const Destination& from, ByteSpan payload, Bytes& out) {
  out.push_back(0);
  out.push_back(0);
  out.push_back(0);
  encode_address(from, out);
  for (auto b : payload) out.push_back(std::to_integer<uint8_t>(b));
}

}  // namespace braid::socks5
