// The SOCKS5 TCP handshake as the client session reads it from an
// application: greeting, RFC 1929 user/password when offered, request.
#include <cstdint>

#include "codec_checks.hpp"
#include "socks5/codec.hpp"

using namespace braid;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan in = bytes_of(data, size);
  auto g = fuzz::checked_parse(socks5::parse_greeting, in);
  if (g.status != Parse::done) return 0;
  FUZZ_CHECK(!g.value.methods.empty() && g.value.methods.size() == g.consumed - 2);
  in = in.subspan(g.consumed);

  if (g.value.offers(socks5::kUserPass)) {
    auto u = fuzz::checked_parse(socks5::parse_userpass, in);
    if (u.status != Parse::done) return 0;
    // VER ULEN UNAME PLEN PASSWD, rebuilt from what was parsed.
    Bytes again{socks5::kUserPassVersion, static_cast<uint8_t>(u.value.username.size())};
    again.insert(again.end(), u.value.username.begin(), u.value.username.end());
    again.push_back(static_cast<uint8_t>(u.value.password.size()));
    again.insert(again.end(), u.value.password.begin(), u.value.password.end());
    FUZZ_CHECK(fuzz::same_bytes(again, in.first(u.consumed)));
    in = in.subspan(u.consumed);
  }

  auto r = fuzz::checked_parse(socks5::parse_request, in);
  if (r.status == Parse::error) {
    // The code is the REP the session answers with.
    FUZZ_CHECK(r.code == socks5::kGeneralFailure || r.code == socks5::kAddressTypeNotSupported);
    return 0;
  }
  if (r.status != Parse::done) return 0;
  Bytes again{socks5::kVersion, r.value.command, 0x00};
  encode_address(r.value.destination, again);
  FUZZ_CHECK(fuzz::same_bytes(again, in.first(r.consumed)));
  // The reply the session would send for this destination is well-formed.
  Bytes reply = socks5::reply(socks5::kSucceeded, r.value.destination);
  FUZZ_CHECK(reply.size() >= 10 && reply[0] == socks5::kVersion && reply[2] == 0);
  return 0;
}
