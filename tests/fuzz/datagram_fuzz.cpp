// The datagram carrier's packets (docs/PROTOCOL.md, "Datagram carrier"):
// anything arriving on the concentrator's UDP port is decoded before it is
// trusted, so raw bytes must only ever be refused; packets Braid itself
// encodes must come back equal, and any change to one must be refused. The
// anti-replay window is checked against a plain model of what it promises.
#include <cstdint>
#include <set>

#include <fuzzer/FuzzedDataProvider.h>

#include "fuzz_check.hpp"
#include "tunnel/datagram.hpp"

using namespace braid;
using namespace braid::datagram;

namespace {

const Key kKey = [] {
  Key k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(i * 7 + 1);
  return k;
}();

Destination make_address(FuzzedDataProvider& p) {
  Destination d;
  switch (p.ConsumeIntegralInRange<int>(0, 2)) {
    case 0:
      d.type = Destination::Type::ipv4;
      for (size_t i = 0; i < 4; ++i) d.ip[i] = p.ConsumeIntegral<uint8_t>();
      break;
    case 1:
      d.type = Destination::Type::ipv6;
      for (auto& b : d.ip) b = p.ConsumeIntegral<uint8_t>();
      break;
    default:
      d.type = Destination::Type::domain;
      d.domain = p.ConsumeRandomLengthString(255);
      if (d.domain.empty()) d.domain = "x";
  }
  d.port = p.ConsumeIntegral<uint16_t>();
  return d;
}

void round_trip(FuzzedDataProvider& p) {
  Packet in;
  in.type = static_cast<Type>(p.ConsumeIntegralInRange<int>(1, 3));
  in.association = p.ConsumeIntegral<uint32_t>();
  in.seq = p.ConsumeIntegral<uint64_t>();
  in.path = p.ConsumeIntegral<uint8_t>();
  if (in.type == Type::data) {
    in.address = make_address(p);
    in.payload = p.ConsumeRandomLengthString(2048);
  } else {
    in.sent_us = p.ConsumeIntegral<uint64_t>();
    if (in.type == Type::probe) {
      const int n = p.ConsumeIntegralInRange<int>(0, 255);
      for (int i = 0; i < n && p.remaining_bytes(); ++i) {
        PathReport r;
        r.path = p.ConsumeIntegral<uint8_t>();
        r.live = p.ConsumeBool();
        r.backup = p.ConsumeBool();
        r.rtt_us = p.ConsumeIntegral<uint32_t>();
        r.loss_percent = p.ConsumeIntegral<uint8_t>();
        in.paths.push_back(r);
      }
    }
  }
  const auto dir = p.ConsumeBool() ? Direction::upstream : Direction::downstream;
  const Bytes wire = encode(in, kKey, dir);
  FUZZ_CHECK(!wire.empty());
  uint32_t assoc = 0;
  FUZZ_CHECK(peek_association(bytes_of(wire), assoc) && assoc == in.association);

  Packet out;
  FUZZ_CHECK(decode(bytes_of(wire), kKey, dir, out) == Error::none);
  FUZZ_CHECK(out.type == in.type && out.association == in.association && out.seq == in.seq && out.path == in.path);
  if (in.type == Type::data) {
    FUZZ_CHECK(out.address == in.address && out.payload == in.payload);
  } else {
    FUZZ_CHECK(out.sent_us == in.sent_us && out.paths.size() == in.paths.size());
    for (size_t i = 0; i < in.paths.size(); ++i) {
      const auto &a = in.paths[i], &b = out.paths[i];
      FUZZ_CHECK(a.path == b.path && a.live == b.live && a.backup == b.backup && a.rtt_us == b.rtt_us &&
                 a.loss_percent == b.loss_percent);
    }
  }
  // Bounced back to its sender: refused.
  const auto other = dir == Direction::upstream ? Direction::downstream : Direction::upstream;
  FUZZ_CHECK(decode(bytes_of(wire), kKey, other, out) != Error::none);
  // Any altered byte, or a shorter packet: refused.
  Bytes altered = wire;
  const size_t at = p.ConsumeIntegralInRange<size_t>(0, altered.size() - 1);
  altered[at] ^= static_cast<uint8_t>(p.ConsumeIntegralInRange<int>(1, 255));
  FUZZ_CHECK(decode(bytes_of(altered), kKey, dir, out) != Error::none);
  Bytes cut(wire.begin(), wire.end() - 1);
  FUZZ_CHECK(decode(bytes_of(cut), kKey, dir, out) != Error::none);
}

// The window promises: each number is accepted at most once, a number far
// below the highest seen is refused, and a fresh number within the window
// is accepted.
void replay(FuzzedDataProvider& p) {
  ReplayWindow w;
  std::set<uint64_t> seen;
  uint64_t highest = 0;
  bool any = false;
  uint64_t base = p.ConsumeIntegral<uint64_t>();
  for (int i = 0; i < 512 && p.remaining_bytes() >= 2; ++i) {
    // Mostly near the current point, sometimes a jump: both ways matter.
    uint64_t seq = p.ConsumeBool() ? base + p.ConsumeIntegralInRange<uint64_t>(0, 2 * ReplayWindow::kSize)
                                   : base - p.ConsumeIntegralInRange<uint64_t>(0, 2 * ReplayWindow::kSize);
    if (p.ConsumeIntegralInRange<int>(0, 15) == 0) base = seq;
    bool expect;
    if (seen.count(seq))
      expect = false;
    else if (any && seq < highest && highest - seq >= ReplayWindow::kSize)
      expect = false;
    else
      expect = true;
    FUZZ_CHECK(w.accept(seq) == expect);
    if (expect) {
      seen.insert(seq);
      if (!any || seq > highest) highest = seq;
      any = true;
    }
    FUZZ_CHECK(w.highest() == highest);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Raw bytes as from the network: never accepted without the key.
  const ByteSpan raw = bytes_of(data, size);
  uint32_t assoc = 0;
  peek_association(raw, assoc);
  Packet out;
  FUZZ_CHECK(decode(raw, kKey, Direction::upstream, out) != Error::none);
  FUZZ_CHECK(decode(raw, kKey, Direction::downstream, out) != Error::none);

  FuzzedDataProvider p(data, size);
  if (p.ConsumeBool())
    round_trip(p);
  else
    replay(p);
  return 0;
}
