// Braid's wire protocol v2 between the client and the concentrator: one
// request header per MPTCP connection (inside TLS), then the reply, then the
// relayed stream. Byte layout and test vectors: docs/PROTOCOL.md.
#pragma once

#include <string>

#include "net/address.hpp"
#include "net/bytes.hpp"

namespace braid::wire {

constexpr uint8_t kVersion = 0x02;
constexpr size_t kMaxUserLength = 255;
constexpr size_t kMaxTokenLength = 255;
/// VER KIND FLAGS ULEN USER(255) TLEN TOKEN(255) ATYP LEN DOMAIN(255) PORT
constexpr size_t kMaxRequestLength = 4 + kMaxUserLength + 1 + kMaxTokenLength + 2 + 255 + 2;

/// What the connection carries.
enum class Kind : uint8_t { tcp_stream = 0x01, udp_framed = 0x02, udp_datagram = 0x03 };

/// Reply status. 0x00–0x08 mean what SOCKS5's REP codes mean.
enum Status : uint8_t {
  kOk = 0x00,
  kGeneralFailure = 0x01,
  kNotAllowed = 0x02,
  kNetworkUnreachable = 0x03,
  kHostUnreachable = 0x04,
  kConnectionRefused = 0x05,
  kTimedOut = 0x06,
  kKindNotSupported = 0x07,
  kAddressTypeNotSupported = 0x08,
  kUnsupportedVersion = 0x10,
  kBadToken = 0x11,
  kMalformed = 0x12,
  kBusy = 0x13,
};

const char* status_name(uint8_t status);
/// The SOCKS5 REP a proxy client should see for a concentrator status.
uint8_t to_socks_reply(uint8_t status);
/// The HTTP status an HTTP proxy client should see (504 for timeouts, else 502).
int to_http_status(uint8_t status);

struct Request {
  Kind kind = Kind::tcp_stream;
  std::string user;
  std::string token;
  Destination destination;
};

/// Appends the request header to @p out. User and token must be 1..255 bytes.
void encode_request(const Request& r, Bytes& out);

/**
 * Decodes a request header. Errors carry the status to answer with:
 * kUnsupportedVersion, kMalformed (bad flags, empty user or token, empty domain),
 * kAddressTypeNotSupported. The kind is returned as sent; the caller decides
 * whether it supports it.
 */
ParseResult<Request> decode_request(ByteSpan in);

struct Reply {
  uint8_t status = kOk;
  Destination bound;  ///< the concentrator's local address towards the destination
};

void encode_reply(const Reply& r, Bytes& out);
/// Errors: kUnsupportedVersion, kAddressTypeNotSupported, kMalformed.
ParseResult<Reply> decode_reply(ByteSpan in);

/// For KIND udp_datagram the header is followed by the downstream scheduler
/// (1 byte) and, only without TLS (insecure_plaintext), the association key
/// (32 bytes); with TLS the key comes from the TLS exporter. The reply is
/// followed by the association id.
constexpr size_t kDatagramSetupLength = 1;
constexpr size_t kPlaintextKeyLength = 32;
constexpr size_t kAssociationIdLength = 4;

/// Largest datagram payload a frame carries (the IPv4 UDP maximum).
constexpr size_t kMaxDatagram = 65507;

/**
 * One datagram on a "UDP framed" connection: LEN(2) ATYP ADDR PORT DATA,
 * where LEN counts everything after itself. Client → concentrator the address
 * is the destination; concentrator → client it is the source.
 */
struct Datagram {
  Destination address;
  std::string payload;
};

void encode_datagram(const Destination& address, ByteSpan payload, Bytes& out);

/// Decodes one frame from the front of a stream. Errors: kMalformed (a
/// payload over kMaxDatagram, an address that does not fit LEN),
/// kAddressTypeNotSupported.
ParseResult<Datagram> decode_datagram(ByteSpan in);

/// Compares local proxy credentials in time that does not depend on where they differ.
bool token_equal(const std::string& a, const std::string& b);

}  // namespace braid::wire
