// braid.json as `braid up`, the control API (PUT /v1/config) and the GUI
// hand it over: any text gives a config or a message, never an exception or
// a crash; what parses survives its own JSON form unchanged.
#include <cstdint>
#include <string>

#include "config/config.hpp"
#include "fuzz_check.hpp"

using namespace braid;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto c = config::parse_client_config(text, error);
  if (!c) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  FUZZ_CHECK(config::validate(*c, error));
  const std::string json = config::to_json(*c);
  auto again = config::parse_client_config(json, error);
  FUZZ_CHECK(again);
  FUZZ_CHECK(config::to_json(*again) == json);
  return 0;
}
