// The client <-> concentrator wire protocol: the request header the
// concentrator reads from every client (before anything is trusted), the
// reply the client reads, and the UDP frames both read from a stream.
#include <cstdint>

#include "codec_checks.hpp"
#include "tunnel/wire.hpp"

using namespace braid;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteSpan in = bytes_of(data, size);

  auto req = fuzz::checked_parse(wire::decode_request, in);
  if (req.status == Parse::done) {
    FUZZ_CHECK(req.consumed <= wire::kMaxRequestLength);
    Bytes again;
    wire::encode_request(req.value, again);
    FUZZ_CHECK(fuzz::same_bytes(again, in.first(req.consumed)));
  } else if (req.status == Parse::error) {
    FUZZ_CHECK(req.code == wire::kUnsupportedVersion || req.code == wire::kMalformed ||
               req.code == wire::kAddressTypeNotSupported);
  } else {
    // A concentrator waits for more only while a header could still fit.
    FUZZ_CHECK(size < wire::kMaxRequestLength);
  }

  auto rep = fuzz::checked_parse(wire::decode_reply, in);
  if (rep.status == Parse::done && rep.value.bound.type != Destination::Type::domain) {
    Bytes again;
    wire::encode_reply(rep.value, again);
    FUZZ_CHECK(fuzz::same_bytes(again, in.first(rep.consumed)));
  }
  // Every status maps to something an application understands.
  const uint8_t status = size ? data[0] : 0;
  FUZZ_CHECK(wire::to_socks_reply(status) <= 0x08);
  const int http_status = wire::to_http_status(status);
  FUZZ_CHECK(http_status == 502 || http_status == 504);
  FUZZ_CHECK(wire::status_name(status) != nullptr);

  // A stream of UDP frames, read the way both ends read them.
  ByteSpan rest = in;
  while (!rest.empty()) {
    auto f = fuzz::checked_parse(wire::decode_datagram, rest);
    if (f.status != Parse::done) break;
    FUZZ_CHECK(f.value.payload.size() <= wire::kMaxDatagram);
    Bytes again;
    wire::encode_datagram(f.value.address, bytes_of(f.value.payload), again);
    FUZZ_CHECK(fuzz::same_bytes(again, rest.first(f.consumed)));
    rest = rest.subspan(f.consumed);
  }
  return 0;
}
