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
