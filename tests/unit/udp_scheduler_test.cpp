// Scheduler decisions for multipath datagrams from path state.
#include <doctest/doctest.h>

#include <map>

#include "paths/udp_scheduler.hpp"

using namespace braid::paths;

namespace {
UdpPathState path(uint8_t id, bool live, uint32_t rtt_ms, uint8_t loss = 0, bool backup = false, double weight = 1) {
  UdpPathState p;
  p.id = id;
  p.live = live;
  p.rtt_us = rtt_ms * 1000;
  p.loss_percent = loss;
  p.backup = backup;
  p.weight = weight;
  return p;
}
}  // namespace

TEST_CASE("udp scheduler: redundant sends on every live path") {
  UdpScheduler s(Scheduler::redundant);
  CHECK(s.pick({path(0, true, 10), path(1, true, 60)}) == std::vector<uint8_t>{0, 1});
  CHECK(s.pick({path(0, false, 10), path(1, true, 60)}) == std::vector<uint8_t>{1});
  // Backups wait while an "on" path is live, and step in when none is.
  CHECK(s.pick({path(0, true, 10), path(1, true, 5, 0, true)}) == std::vector<uint8_t>{0});
  CHECK(s.pick({path(0, false, 10), path(1, true, 5, 0, true)}) == std::vector<uint8_t>{1});
  // Nothing live (probes not answered yet): try everything.
  CHECK(s.pick({path(0, false, 0), path(1, false, 0)}) == std::vector<uint8_t>{0, 1});
}

TEST_CASE("udp scheduler: lowest-rtt picks the fastest live path and moves off a lossy one") {
  UdpScheduler s(Scheduler::lowest_rtt);
  CHECK(s.pick({path(0, true, 40), path(1, true, 15)}) == std::vector<uint8_t>{1});
  CHECK(s.pick({path(0, true, 40), path(1, true, 15, 50)}) == std::vector<uint8_t>{0});
  CHECK(s.pick({path(0, true, 40, 30), path(1, true, 15, 50)}) == std::vector<uint8_t>{1});  // all lossy: fastest
  CHECK(s.pick({path(0, false, 40), path(1, true, 90)}) == std::vector<uint8_t>{1});
}

TEST_CASE("udp scheduler: weighted spreads in proportion") {
  UdpScheduler s(Scheduler::weighted);
  std::map<uint8_t, int> count;
  for (int i = 0; i < 300; ++i) {
    auto p = s.pick({path(0, true, 10, 0, false, 40), path(1, true, 10, 0, false, 20)});
    REQUIRE(p.size() == 1);
    ++count[p[0]];
  }
  CHECK(count[0] == 200);
  CHECK(count[1] == 100);
}

TEST_CASE("udp scheduler: lowest-rtt does not leave the fast path for one that loses as much") {
  UdpScheduler s(Scheduler::lowest_rtt);
  // 2 of 9 probes lost (22 %) on the fast path, 1 of 9 on the slow one: noise
  // at 5 % loss each way, not a reason to add 60 ms.
  CHECK(s.pick({path(0, true, 20, 22), path(1, true, 80, 11)}) == std::vector<uint8_t>{0});
  CHECK(s.pick({path(0, true, 20, 30), path(1, true, 80, 20)}) == std::vector<uint8_t>{0});
  CHECK(s.pick({path(0, true, 20, 30), path(1, true, 80, 10)}) == std::vector<uint8_t>{0});
  // Clearly lossier than the other (≥ 2 × its loss + 15 points): leave it.
  CHECK(s.pick({path(0, true, 20, 35), path(1, true, 80, 10)}) == std::vector<uint8_t>{1});
  CHECK(s.pick({path(0, true, 20, 50), path(1, true, 80, 0)}) == std::vector<uint8_t>{1});
  // Under the lossy threshold nothing moves, however lossless the other is.
  CHECK(s.pick({path(0, true, 20, 20), path(1, true, 80, 0)}) == std::vector<uint8_t>{0});
}

TEST_CASE("udp scheduler: lowest-rtt keeps its path among nearly equal RTTs") {
  UdpScheduler s(Scheduler::lowest_rtt);
  CHECK(s.pick({path(0, true, 20), path(1, true, 21)}) == std::vector<uint8_t>{0});
  CHECK(s.pick({path(0, true, 21), path(1, true, 20)}) == std::vector<uint8_t>{0});  // within 10 % + 1 ms
  CHECK(s.pick({path(0, true, 30), path(1, true, 20)}) == std::vector<uint8_t>{1});  // clearly faster
  CHECK(s.pick({path(0, false, 20), path(1, true, 20)}) == std::vector<uint8_t>{1});  // current dead: no stickiness
  CHECK(s.pick({path(0, true, 20), path(1, true, 20)}) == std::vector<uint8_t>{1});
}

TEST_CASE("udp path probes: a silent path is dead after three misses in a row, a single loss is not enough") {
  const uint64_t I = 500000;  // 500 ms
  PathProbes p;
  CHECK_FALSE(p.live(0, I));
  p.sent(1000000, false);
  CHECK(p.answered(1000000, 1020000));
  CHECK_FALSE(p.answered(42, 1020000));
  CHECK(p.srtt_us() == 20000);
  CHECK(p.timeout_us(I) == 45000);  // max(2 × 20, 20 + 25) ms
  CHECK(p.live(1020000, I));
  // One probe lost: a miss, a retry, and the retry answered: still live.
  p.sent(1500000, false);
  CHECK_FALSE(p.retry_due(1530000, I));
  CHECK(p.next_check_us(I) == 1545000);
  CHECK(p.retry_due(1550000, I));
  CHECK(p.misses(1550000, I) == 1);
  CHECK(p.live(1550000, I));
  p.sent(1550000, true);
  CHECK(p.answered(1550000, 1571000));
  CHECK(p.misses(1571000, I) == 0);
  CHECK_FALSE(p.retry_due(1571000, I));
  // Blackholed: the regular probe and two retries go unanswered.
  uint64_t t = 2000000;
  p.sent(t, false);
  for (int i = 0; i < 2; ++i) {
    t += p.timeout_us(I);
    REQUIRE(p.retry_due(t, I));
    CHECK(p.live(t, I));
    p.sent(t, true);
  }
  t += p.timeout_us(I);
  CHECK(p.misses(t, I) == 3);
  CHECK_FALSE(p.live(t, I));          // ≈ 135 ms after the probe, not 1.5 s
  CHECK_FALSE(p.retry_due(t, I));     // dead: back to the regular interval
  // It answers again: live at once.
  p.sent(2500000, false);
  CHECK(p.answered(2500000, 2520000));
  CHECK(p.live(2520000, I));
}

TEST_CASE("udp path probes: loss counts regular probes old enough to be answered, over the last 20") {
  const uint64_t I = 500000;
  PathProbes p;
  uint64_t t = 0;
  for (int i = 0; i < 30; ++i, t += I) {
    p.sent(t, false);
    if (i % 5 != 0) p.answered(t, t + 20000);  // every fifth lost
    if (i % 5 == 0) p.sent(t + 50000, true);   // its retry, lost too: not counted
  }
  // The window holds the last 20 regular probes; the newest is not due yet.
  CHECK(p.loss_percent(t, I) == 100 * 4 / 19);  // i = 10 … 28
  // Too few probes due to say: no loss yet.
  PathProbes young;
  for (uint64_t u = 0; u < 6 * I; u += I) young.sent(u, false);
  CHECK(young.loss_percent(6 * I, I) == 0);
}
