// Path model: link classification from sysfs fixtures, policy rules, the
// choice of the path for new connections, mode presets.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "paths/path.hpp"

using namespace braid;
using namespace braid::paths;
namespace fs = std::filesystem;

namespace {

// A throwaway /sys/class/net look-alike.
struct SysfsFixture {
  fs::path root;
  SysfsFixture() {
    char tmpl[] = "/tmp/braid-sysfs-XXXXXX";
    root = ::mkdtemp(tmpl);
  }
  ~SysfsFixture() { fs::remove_all(root); }
  void add(const std::string& name, const std::string& uevent, int type, bool phy80211 = false) {
    fs::create_directories(root / name);
    std::ofstream(root / name / "uevent") << uevent;
    std::ofstream(root / name / "type") << type << "\n";
    if (phy80211) fs::create_directories(root / name / "phy80211");
  }
};

sockaddr_storage v4(const char* text) {
  sockaddr_storage ss{};
  auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
  sin->sin_family = AF_INET;
  inet_pton(AF_INET, text, &sin->sin_addr);
  return ss;
}

Path path(const std::string& name, platform::LinkKind kind, Policy policy, bool usable = true) {
  Path p;
  p.name = name;
  p.kind = kind;
  p.policy = policy;
  p.link_up = usable;
  p.has_route = true;
  p.addresses = {v4("10.0.0.1")};
  return p;
}

}  // namespace

TEST_CASE("paths: link kinds from sysfs") {
  SysfsFixture sys;
  sys.add("wlp2s0", "DEVTYPE=wlan\nINTERFACE=wlp2s0\nIFINDEX=3\n", 1);
  sys.add("wlan1", "INTERFACE=wlan1\n", 1, true);  // no DEVTYPE, but a phy80211 link
  sys.add("wwan0", "DEVTYPE=wwan\nINTERFACE=wwan0\n", 65534);
  sys.add("enp0s31f6", "INTERFACE=enp0s31f6\n", 1);
  sys.add("usb0", "DEVTYPE=gadget\nINTERFACE=usb0\n", 1);  // RNDIS tethering looks like Ethernet
  sys.add("tun0", "DEVTYPE=tun\n", 65534);
  CHECK(platform::classify_link(sys.root, "wlp2s0") == platform::LinkKind::wifi);
  CHECK(platform::classify_link(sys.root, "wlan1") == platform::LinkKind::wifi);
  CHECK(platform::classify_link(sys.root, "wwan0") == platform::LinkKind::cellular);
  CHECK(platform::classify_link(sys.root, "enp0s31f6") == platform::LinkKind::ethernet);
  CHECK(platform::classify_link(sys.root, "usb0") == platform::LinkKind::ethernet);
  CHECK(platform::classify_link(sys.root, "tun0") == platform::LinkKind::other);
  CHECK(platform::classify_link(sys.root, "missing") == platform::LinkKind::other);
}

TEST_CASE("paths: policies map to endpoint flags") {
  CHECK(endpoint_flags(Policy::on) == platform::kEndpointSubflow);
  CHECK(endpoint_flags(Policy::backup) == (platform::kEndpointSubflow | platform::kEndpointBackup));
  CHECK_FALSE(endpoint_flags(Policy::off));
  CHECK(parse_policy("backup") == Policy::backup);
  CHECK_FALSE(parse_policy("maybe"));
  CHECK(parse_mode("failover") == Mode::failover);
  CHECK_FALSE(parse_mode("custom"));
}

TEST_CASE("paths: state follows link and policy") {
  CHECK(path("a", platform::LinkKind::wifi, Policy::on).state() == State::up);
  CHECK(path("a", platform::LinkKind::wifi, Policy::backup).state() == State::standby);
  CHECK(path("a", platform::LinkKind::wifi, Policy::off).state() == State::off);
  CHECK(path("a", platform::LinkKind::wifi, Policy::on, false).state() == State::down);
  Path no_addr = path("a", platform::LinkKind::wifi, Policy::on);
  no_addr.addresses.clear();
  CHECK(no_addr.state() == State::down);
}

TEST_CASE("paths: new connections start on the best enabled path") {
  using K = platform::LinkKind;
  std::vector<Path> ps = {path("wwan0", K::cellular, Policy::on), path("wlan0", K::wifi, Policy::on),
                          path("eth0", K::ethernet, Policy::on, false)};
  REQUIRE(best_path(ps));
  CHECK(best_path(ps)->name == "wlan0");  // Ethernet is down; Wi-Fi beats metered cellular
  ps[1].policy = Policy::off;
  CHECK(best_path(ps)->name == "wwan0");
  ps[0].policy = Policy::backup;
  CHECK(best_path(ps)->name == "wwan0");  // only a backup is left: use it
  ps[0].policy = Policy::off;
  CHECK(best_path(ps) == nullptr);
}

TEST_CASE("paths: mode presets") {
  using K = platform::LinkKind;
  std::vector<Path> ps = {path("wwan0", K::cellular, Policy::off), path("wlan0", K::wifi, Policy::backup)};
  auto agg = policies_for_mode(Mode::aggregate, ps);
  CHECK(agg == std::vector<Policy>{Policy::on, Policy::on});
  auto fo = policies_for_mode(Mode::failover, ps);
  CHECK(fo == std::vector<Policy>{Policy::backup, Policy::on});
}

TEST_CASE("paths: candidates") {
  platform::Interface lo;
  lo.loopback = true;
  lo.addresses = {v4("127.0.0.1")};
  CHECK_FALSE(is_candidate(lo));
  platform::Interface bare;
  bare.name = "eth1";
  CHECK_FALSE(is_candidate(bare));
  bare.addresses = {v4("192.0.2.1")};
  CHECK(is_candidate(bare));
}
