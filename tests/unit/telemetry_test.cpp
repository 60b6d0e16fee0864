// Telemetry: per-path bytes from subflow readings, rates, closed connections.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "paths/telemetry.hpp"

using namespace braid;
using namespace braid::paths;

namespace {

platform::SubflowStats subflow(const char* local, uint16_t port, uint64_t acked, uint64_t received, uint32_t rtt = 0) {
  platform::SubflowStats s;
  auto* l = reinterpret_cast<sockaddr_in*>(&s.local);
  l->sin_family = AF_INET;
  l->sin_port = htons(port);
  inet_pton(AF_INET, local, &l->sin_addr);
  auto* r = reinterpret_cast<sockaddr_in*>(&s.remote);
  r->sin_family = AF_INET;
  r->sin_port = htons(7300);
  inet_pton(AF_INET, "10.31.1.1", &r->sin_addr);
  s.bytes_acked = acked;
  s.bytes_received = received;
  s.rtt_us = rtt;
  return s;
}

std::string path_of(const sockaddr_storage& a) {
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&a)->sin_addr, buf, sizeof buf);
  const std::string ip = buf;
  return ip == "10.31.1.2" ? "wifi0" : ip == "10.31.2.2" ? "cell0" : "";
}

}  // namespace

TEST_CASE("telemetry: growth of each subflow goes to its path") {
  Telemetry t;
  t.observe(1, {subflow("10.31.1.2", 1000, 100, 1000, 5000), subflow("10.31.2.2", 1001, 0, 500)}, path_of);
  t.observe(1, {subflow("10.31.1.2", 1000, 150, 3000, 6000), subflow("10.31.2.2", 1001, 10, 1500)}, path_of);
  CHECK(t.path("wifi0").session.down == 3000);
  CHECK(t.path("wifi0").session.up == 150);
  CHECK(t.path("cell0").session.down == 1500);
  CHECK(t.path("wifi0").rtt_us == 6000);
  auto per = t.connection(1);
  CHECK(per["wifi0"].down == 3000);
  CHECK(per["cell0"].down == 1500);
}

TEST_CASE("telemetry: rates over one and ten seconds") {
  Telemetry t;
  t.observe(1, {subflow("10.31.1.2", 1000, 0, 1000)}, path_of);
  t.tick();
  CHECK(t.path("wifi0").down_bps_1s == doctest::Approx(8000));
  t.observe(1, {subflow("10.31.1.2", 1000, 0, 4000)}, path_of);
  t.tick();
  CHECK(t.path("wifi0").down_bps_1s == doctest::Approx(24000));
  CHECK(t.path("wifi0").down_bps_10s == doctest::Approx((8000 + 24000) / 2.0));
  for (int i = 0; i < 10; ++i) t.tick();
  CHECK(t.path("wifi0").down_bps_1s == 0);
  CHECK(t.path("wifi0").down_bps_10s == 0);  // the burst has left the window
  CHECK(t.path("wifi0").session.down == 4000);  // totals stay
}

TEST_CASE("telemetry: a closed connection's bytes stay in the totals; a vanished subflow keeps its share") {
  Telemetry t;
  t.observe(1, {subflow("10.31.1.2", 1000, 0, 1000), subflow("10.31.2.2", 1001, 0, 2000)}, path_of);
  // cell0's subflow closes (path switched off); its last reading stays.
  t.observe(1, {subflow("10.31.1.2", 1000, 0, 5000)}, path_of);
  t.observe(2, {subflow("10.31.2.2", 2000, 0, 700)}, path_of);
  t.forget(1);
  CHECK(t.connections() == 1);
  CHECK(t.path("wifi0").session.down == 5000);
  CHECK(t.path("cell0").session.down == 2700);
  CHECK(t.connection(1).empty());
}

TEST_CASE("telemetry: totals include earlier runs; unknown addresses are not credited") {
  Telemetry t;
  t.set_base("wifi0", {10, 20});
  t.observe(1, {subflow("10.31.1.2", 1000, 5, 5), subflow("192.0.2.9", 1002, 99, 99)}, path_of);
  CHECK(t.path("wifi0").total.up == 15);
  CHECK(t.path("wifi0").total.down == 25);
  CHECK(t.path("wifi0").session.down == 5);
  CHECK(t.paths() == std::vector<std::string>{"wifi0"});
}

TEST_CASE("telemetry: live subflows per path") {
  Telemetry t;
  t.observe(1, {subflow("10.31.1.2", 1000, 0, 1), subflow("10.31.2.2", 1001, 0, 1)}, path_of);
  t.observe(2, {subflow("10.31.1.2", 1002, 0, 1)}, path_of);
  t.tick();
  CHECK(t.path("wifi0").subflows == 2);
  CHECK(t.path("cell0").subflows == 1);
  t.forget(2);
  t.tick();
  CHECK(t.path("wifi0").subflows == 1);
}

TEST_CASE("telemetry: a closed subflow keeps its bytes but is not counted as live") {
  Telemetry t;
  auto closed = subflow("10.31.2.2", 1001, 0, 900);
  t.observe(1, {subflow("10.31.1.2", 1000, 0, 100), subflow("10.31.2.2", 1001, 0, 500)}, path_of);
  closed.live = false;  // its last bytes arrive with the merged reading
  t.observe(1, {subflow("10.31.1.2", 1000, 0, 200), closed}, path_of);
  t.tick();
  CHECK(t.path("cell0").session.down == 900);
  CHECK(t.path("cell0").subflows == 0);
  CHECK(t.path("wifi0").subflows == 1);
}
