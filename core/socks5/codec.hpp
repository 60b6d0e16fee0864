// SOCKS5 codec (RFC 1928, RFC 1929 username/password): pure functions over
// byte spans. They never touch sockets, so the session code, the unit tests
// and fuzzers drive them the same way.
#pragma once

#include <string>
#include <vector>

#include "net/address.hpp"
#include "net/bytes.hpp"

namespace braid::socks5 {

constexpr uint8_t kVersion = 0x05;
constexpr uint8_t kUserPassVersion = 0x01;  // RFC 1929 §2

/// Authentication methods (RFC 1928 §3).
enum Method : uint8_t { kNoAuth = 0x00, kUserPass = 0x02, kNoAcceptable = 0xFF };

/// Commands (RFC 1928 §4).
enum Command : uint8_t { kConnect = 0x01, kBind = 0x02, kUdpAssociate = 0x03 };

/// Reply codes, REP (RFC 1928 §6).
enum Reply : uint8_t {
  kSucceeded = 0x00,
  kGeneralFailure = 0x01,
  kNotAllowed = 0x02,
  kNetworkUnreachable = 0x03,
  kHostUnreachable = 0x04,
  kConnectionRefused = 0x05,
  kTtlExpired = 0x06,
  kCommandNotSupported = 0x07,
  kAddressTypeNotSupported = 0x08,
};

/// Short English text for a reply code, for logs.
const char* reply_name(uint8_t rep);

/// The client's greeting: VER NMETHODS METHODS.
struct Greeting {
  std::vector<uint8_t> methods;
  bool offers(uint8_t m) const;
};

/// Errors: code 1 when VER is not 5 or NMETHODS is 0.
ParseResult<Greeting> parse_greeting(ByteSpan in);

/// RFC 1929 sub-negotiation: VER ULEN UNAME PLEN PASSWD.
struct Credentials {
  std::string username;
  std::string password;
};

/// Errors: code 1 when VER is not 1 or ULEN is 0.
ParseResult<Credentials> parse_userpass(ByteSpan in);

/// A request: VER CMD RSV ATYP DST.ADDR DST.PORT.
struct Request {
  uint8_t command = 0;
  Destination destination;
};

/// Errors carry the reply code to answer with: 1 (bad version or RSV),
/// 8 (unknown address type). Unknown commands parse fine; the engine answers 7.
ParseResult<Request> parse_request(ByteSpan in);

Bytes method_selection(uint8_t method);
Bytes userpass_status(bool success);
/// VER REP RSV ATYP BND.ADDR BND.PORT.
Bytes reply(uint8_t rep, const Destination& bound);

}  // namespace braid::socks5
