// Destination policy rules ("ADDR[/LEN] [port N[-M]]") and the policy's
// verdicts. A rule that parses prints in a canonical form that parses to the
// same rule and contains its own base address; a verdict never opens what the
// built-in refusals close unless an allow rule says so.
#include <cstdint>
#include <string>
#include <string_view>

#include "concentrator/destination_policy.hpp"
#include "fuzz_check.hpp"
#include "net/cidr.hpp"

using namespace braid;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // First line: a rule; second line: an address to check against it.
  const size_t nl = text.find('\n');
  std::string why;
  auto rule = net::AddressRule::parse(text.substr(0, nl), &why);
  FUZZ_CHECK(rule || !why.empty());
  if (rule) {
    const std::string canonical = rule->to_string();
    auto again = net::AddressRule::parse(canonical);
    FUZZ_CHECK(again && again->to_string() == canonical);
    FUZZ_CHECK(rule->net.contains(rule->net.base) || rule->net.any);
    FUZZ_CHECK(rule->port_low <= rule->port_high);
  }
  if (nl == std::string_view::npos) return 0;
  auto addr = net::IpAddress::parse(text.substr(nl + 1));
  if (!addr) return 0;
  FUZZ_CHECK(net::IpAddress::parse(addr->to_string()) == addr);
  const uint16_t port = static_cast<uint16_t>(size * 131);
  concentrator::DestinationPolicy open;
  const auto builtin = open.check(*addr, port);
  if (!rule) return 0;
  config::Destinations allow, deny;
  allow.allow.push_back(*rule);
  deny.deny.push_back(*rule);
  const auto a = concentrator::DestinationPolicy(allow).check(*addr, port);
  const auto d = concentrator::DestinationPolicy(deny).check(*addr, port);
  // The policy judges a NAT64 address (64:ff9b::/96) by its IPv4 part too.
  bool matches = rule->matches(*addr, port);
  static const auto nat64 = *net::Cidr::parse("64:ff9b::/96");
  if (addr->v6 && nat64.contains(*addr)) {
    net::IpAddress v4;
    for (size_t i = 0; i < 4; ++i) v4.bytes[i] = addr->bytes[12 + i];
    matches = matches || rule->matches(v4, port);
  }
  // Allow changes only what the rule matches; deny refuses exactly that.
  FUZZ_CHECK(a.allowed == (builtin.allowed || matches));
  FUZZ_CHECK(d.allowed == (builtin.allowed && !matches));
  return 0;
}
