// Multipath datagram packets: encoding, authentication, anti-replay.
#include <doctest/doctest.h>

#include <algorithm>

#include "tunnel/datagram.hpp"

using namespace braid;
using namespace braid::datagram;

namespace {
Key key_of(uint8_t fill) {
  Key k;
  k.fill(fill);
  return k;
}
}  // namespace

TEST_CASE("datagram: data packets round-trip under the key") {
  Packet p;
  p.type = Type::data;
  p.association = 0xA1B2C3D4;
  p.seq = 77;
  p.path = 1;
  p.address = *parse_host_port("10.31.9.2:7");
  p.payload = std::string(1, '\0') + "hello";
  const Bytes wire = encode(p, key_of(1), Direction::upstream);
  CHECK(wire.size() == kHeaderLength + 7 + 6 + kTagLength);
  CHECK(wire[0] == kMagic);
  uint32_t assoc = 0;
  REQUIRE(peek_association(bytes_of(wire), assoc));
  CHECK(assoc == 0xA1B2C3D4);
  Packet back;
  REQUIRE(decode(bytes_of(wire), key_of(1), Direction::upstream, back) == Error::none);
  CHECK(back.seq == 77);
  CHECK(back.path == 1);
  CHECK(back.address.to_string() == "10.31.9.2:7");
  CHECK(back.payload == p.payload);
}

TEST_CASE("datagram: probes carry the client's path table") {
  Packet p;
  p.type = Type::probe;
  p.association = 5;
  p.seq = 1;
  p.sent_us = 123456789;
  p.paths = {{0, true, false, 12000, 0}, {1, false, true, 0, 100}};
  Packet back;
  REQUIRE(decode(bytes_of(encode(p, key_of(2), Direction::upstream)), key_of(2), Direction::upstream, back) == Error::none);
  CHECK(back.type == Type::probe);
  CHECK(back.sent_us == 123456789);
  REQUIRE(back.paths.size() == 2);
  CHECK(back.paths[0].live);
  CHECK(back.paths[0].rtt_us == 12000);
  CHECK(back.paths[1].backup);
  CHECK(back.paths[1].loss_percent == 100);
}

TEST_CASE("datagram: data carries the client's scheduler in TYPE bits 4-5; probes their interval") {
  Packet p;
  p.type = Type::data;
  p.association = 9;
  p.seq = 3;
  p.sched = 1;  // 1 + redundant
  p.address = *parse_host_port("10.31.9.2:7");
  const Bytes wire = encode(p, key_of(3), Direction::upstream);
  CHECK(wire[1] == 0x11);
  Packet back;
  REQUIRE(decode(bytes_of(wire), key_of(3), Direction::upstream, back) == Error::none);
  CHECK(back.sched == 1);
  // Without one (0: the association's SCHED) the byte is as before.
  p.sched = 0;
  CHECK(encode(p, key_of(3), Direction::upstream)[1] == 0x01);
  // Scheduler bits on a probe are refused (after the tag is checked).
  Packet probe;
  probe.type = Type::probe;
  probe.association = 9;
  probe.sched = 2;  // ignored by encode: only data carries it
  probe.interval_ms = 250;
  const Bytes pw = encode(probe, key_of(3), Direction::upstream);
  CHECK(pw[1] == 0x02);
  REQUIRE(decode(bytes_of(pw), key_of(3), Direction::upstream, back) == Error::none);
  CHECK(back.interval_ms == 250);
  probe.interval_ms = 0;  // not sent: an older client
  REQUIRE(decode(bytes_of(encode(probe, key_of(3), Direction::upstream)), key_of(3), Direction::upstream, back) ==
          Error::none);
  CHECK(back.interval_ms == 0);
}

TEST_CASE("datagram: forged, altered and foreign packets are refused") {
  Packet p;
  p.association = 9;
  p.seq = 3;
  p.address = *parse_host_port("1.2.3.4:5");
  p.payload.assign(1, 'x');  // (not = "x": GCC 12 false -Wrestrict, PR 105329)
  Bytes wire = encode(p, key_of(3), Direction::upstream);
  Packet out;
  CHECK(decode(bytes_of(wire), key_of(4), Direction::upstream, out) == Error::bad_tag);  // another association's key
  Bytes altered = wire;
  altered[kHeaderLength + 2] ^= 1;
  CHECK(decode(bytes_of(altered), key_of(3), Direction::upstream, out) == Error::bad_tag);
  Bytes shorter(wire.begin(), wire.begin() + 10);
  CHECK(decode(bytes_of(shorter), key_of(3), Direction::upstream, out) == Error::too_short);
  Bytes not_ours = wire;
  not_ours[0] = 0x45;
  CHECK(decode(bytes_of(not_ours), key_of(3), Direction::upstream, out) == Error::bad_magic);
  // A packet bounced back to its sender is refused, though its tag is right.
  CHECK(decode(bytes_of(wire), key_of(3), Direction::downstream, out) == Error::wrong_direction);
  CHECK(decode(bytes_of(wire), key_of(3), Direction::upstream, out) == Error::none);
}

TEST_CASE("replay window: each number once, duplicates and stale ones refused") {
  ReplayWindow w;
  CHECK(w.accept(10));
  CHECK_FALSE(w.accept(10));  // the redundant copy
  CHECK(w.accept(12));
  CHECK(w.accept(11));  // reordered, still new
  CHECK_FALSE(w.accept(11));
  CHECK(w.accept(10 + ReplayWindow::kSize));
  CHECK_FALSE(w.accept(10));  // now outside the window: refused
  CHECK(w.accept(12 + ReplayWindow::kSize - 1 + 5000));  // a long jump clears the window
  CHECK_FALSE(w.accept(12 + ReplayWindow::kSize - 1 + 5000));
  CHECK(w.accept(12 + ReplayWindow::kSize - 1 + 4999));
}

TEST_CASE("datagram: the body is encrypted; the header is authenticated but readable") {
  Packet p;
  p.type = Type::data;
  p.association = 0x01020304;
  p.seq = 9;
  p.path = 0;
  p.address = *parse_host_port("files.braid.test:443");
  p.payload = "a secret datagram payload";
  const Bytes a = encode(p, key_of(7), Direction::upstream);
  const std::string text(a.begin(), a.end());
  CHECK(text.find("secret") == std::string::npos);
  CHECK(text.find("files.braid.test") == std::string::npos);
  // The header stays in clear: the concentrator finds the association by it.
  CHECK(a[2] == 0x01);
  CHECK(a[5] == 0x04);
  // A redundant copy (same SEQ) on another path is a different ciphertext:
  // the nonce includes the path, so no (key, nonce) pair is used twice.
  p.path = 1;
  const Bytes b = encode(p, key_of(7), Direction::upstream);
  REQUIRE(a.size() == b.size());
  CHECK(!std::equal(a.begin() + kHeaderLength, a.end(), b.begin() + kHeaderLength));
  Packet back;
  REQUIRE(decode(bytes_of(b), key_of(7), Direction::upstream, back) == Error::none);
  CHECK(back.payload == p.payload);
  // Changing the path (or any header byte) breaks the tag.
  Bytes moved = a;
  moved[14] = 1;
  CHECK(decode(bytes_of(moved), key_of(7), Direction::upstream, back) == Error::bad_tag);
  // A truncated packet is refused, not read past its end.
  Bytes cut(a.begin(), a.begin() + kHeaderLength + kTagLength - 1);
  CHECK(decode(bytes_of(cut), key_of(7), Direction::upstream, back) == Error::too_short);
}

TEST_CASE("datagram: the exporter context is the association id, big-endian") {
  const auto c = exporter_context(0xA1B2C3D4);
  CHECK(c[0] == 0xA1);
  CHECK(c[3] == 0xD4);
}
