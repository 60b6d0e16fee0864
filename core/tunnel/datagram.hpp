// Braid's multipath datagram packets: UDP between a client path and the
// concentrator's UDP port, never retransmitted. Each packet names its
// association and carries a sequence number (the same on every redundant
// copy); the body is encrypted with AES-256-GCM under the association's key
// (from the TLS exporter) with the header as associated data, so the UDP
// port is not an open relay, nothing inside is readable and replays are
// refused. Layout and examples: docs/PROTOCOL.md, "Datagram carrier".
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "net/address.hpp"
#include "net/bytes.hpp"

namespace braid::datagram {

constexpr uint8_t kMagic = 0xB7;
constexpr size_t kKeyLength = 32;
constexpr size_t kTagLength = 16;
constexpr size_t kHeaderLength = 1 + 1 + 4 + 8 + 1;  ///< MAGIC TYPE ASSOC SEQ PATH

using Key = std::array<uint8_t, kKeyLength>;

/// With TLS, each association's key is the TLS exporter's output (RFC 8446
/// §7.5) for this label and the association id as context, on its
/// connection: equal at both ends, never sent.
constexpr const char* kExporterLabel = "EXPORTER-braid-datagram-key";
std::array<uint8_t, 4> exporter_context(uint32_t association);

enum class Type : uint8_t {
  data = 1,         ///< ATYP ADDR PORT PAYLOAD (destination upstream, source downstream)
  probe = 2,        ///< client → concentrator: SENT_US(8) then the client's path table
  probe_reply = 3,  ///< concentrator → client: the probe's SENT_US echoed
};

/// The client's view of one path, carried in probes so that the
/// concentrator schedules the downstream direction on the same facts.
struct PathReport {
  uint8_t path = 0;
  bool live = false;
  bool backup = false;
  uint32_t rtt_us = 0;
  uint8_t loss_percent = 0;
};

struct Packet {
  Type type = Type::data;
  uint32_t association = 0;
  uint64_t seq = 0;
  uint8_t path = 0;  ///< the sender's path index
  // data
  /// Upstream data: the scheduler the client's matching udp.rules rule picked
  /// for this destination, as 1 + paths::Scheduler (0 = the association's
  /// SCHED); the concentrator answers this destination with it. Bits 4-5 of
  /// TYPE, so under the tag.
  uint8_t sched = 0;
  Destination address;
  std::string payload;
  // probe / probe_reply
  uint64_t sent_us = 0;
  std::vector<PathReport> paths;
  /// probe: the client's probe interval (ms; 0 = not sent, take 500), so the
  /// concentrator knows when a silent path has missed probes.
  uint16_t interval_ms = 0;
};

/// Which way a packet travels. It is under the tag (bit 7 of TYPE), so a
/// packet bounced back to its sender is refused rather than taken for one
/// from the other side.
enum class Direction : uint8_t { upstream = 0, downstream = 0x80 };

/// Serialises and encrypts @p p (empty only if OpenSSL fails).
Bytes encode(const Packet& p, const Key& key, Direction d);

enum class Error : uint8_t { none, too_short, bad_magic, bad_type, bad_tag, malformed, wrong_direction };
const char* error_name(Error e);

/// Association id of a packet, before its tag is checked (to find the key).
bool peek_association(ByteSpan in, uint32_t& association);

/// Checks the tag under @p key, decrypts, checks the direction and decodes.
/// Errors say why a packet was dropped (a forged or altered packet: bad_tag).
Error decode(ByteSpan in, const Key& key, Direction expected, Packet& out);

/**
 * A sliding anti-replay window (RFC 4303 §3.4.3 style) over 64-bit sequence
 * numbers: accepts each number once, and nothing older than the window.
 */
class ReplayWindow {
 public:
  static constexpr uint64_t kSize = 1024;
  /// True the first time @p seq is seen within the window; false for a
  /// duplicate (a redundant copy) or a number that is too old.
  bool accept(uint64_t seq);
  uint64_t highest() const { return highest_; }

 private:
  uint64_t highest_ = 0;
  bool any_ = false;
  std::array<uint64_t, kSize / 64> bits_{};
  bool test_and_set(uint64_t seq);
};

}  // namespace braid::datagram
