// concentrator.json: any text gives a config or a message naming the field,
// never an exception or a crash; destination rules that parse print back to
// rules that parse the same.
#include <cstdint>
#include <string>

#include "config/config.hpp"
#include "fuzz_check.hpp"

using namespace braid;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto c = config::parse_concentrator_config(text, error);
  if (!c) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  FUZZ_CHECK(config::validate(*c, error));
  for (const auto* list : {&c->destinations.allow, &c->destinations.deny}) {
    for (const auto& r : *list) {
      auto again = net::AddressRule::parse(r.to_string());
      FUZZ_CHECK(again && again->to_string() == r.to_string());
    }
  }
  return 0;
}
