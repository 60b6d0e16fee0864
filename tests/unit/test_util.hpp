// Helpers shared by the unit tests.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>

#include "net/bytes.hpp"

namespace braid::test {

/// "01 02 ff" → bytes. Spaces and newlines are ignored.
inline Bytes hex(const std::string& text) {
  Bytes out;
  std::istringstream in(text);
  std::string tok;
  while (in >> tok) out.push_back(static_cast<uint8_t>(std::stoul(tok, nullptr, 16)));
  return out;
}

}  // namespace braid::test
