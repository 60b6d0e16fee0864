// SOCKS5 UDP request headers (RFC 1928 §7) as the relay receives them from
// an application, one whole datagram at a time.
#include <cstdint>

#include "fuzz_check.hpp"
#include "socks5/codec.hpp"
#include "socks5/udp.hpp"

using namespace braid;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteSpan in = bytes_of(data, size);
  auto h = socks5::parse_udp(in);
  // UDP has no partial messages: a datagram is whole or it is nothing.
  FUZZ_CHECK(h.status != Parse::need_more);
  if (h.status == Parse::error) {
    FUZZ_CHECK(h.code == socks5::kGeneralFailure || h.code == socks5::kAddressTypeNotSupported);
    return 0;
  }
  FUZZ_CHECK(h.consumed == size && h.value.payload_offset <= size);
  // Re-encoding the same destination and payload gives the datagram back
  // (with FRAG 0, the only value the encoder writes).
  Bytes again;
  socks5::encode_udp(h.value.destination, in.subspan(h.value.payload_offset), again);
  FUZZ_CHECK(again.size() == size);
  for (size_t i = 0; i < size; ++i)
    if (i != 2) FUZZ_CHECK(again[i] == data[i]);
  auto back = socks5::parse_udp(bytes_of(again));
  FUZZ_CHECK(back.status == Parse::done && back.value.destination == h.value.destination && back.value.frag == 0);
  return 0;
}
