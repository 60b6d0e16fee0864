// Properties every pure codec in core/ promises (STYLE.md rule 6), checked
// on whatever the fuzzer feeds it:
//   - "done" consumes at least one byte and no more than it was given;
//   - the same answer comes for exactly the bytes it consumed;
//   - every shorter prefix of a complete message is "need more", never an
//     error or a different message (a stream may arrive a byte at a time).
#pragma once

#include <cstddef>

#include "fuzz_check.hpp"
#include "net/bytes.hpp"

namespace braid::fuzz {

template <typename Parser>
auto checked_parse(Parser&& parse, ByteSpan in) {
  auto r = parse(in);
  if (r.status != Parse::done) return r;
  FUZZ_CHECK(r.consumed > 0 && r.consumed <= in.size());
  auto exact = parse(in.first(r.consumed));
  FUZZ_CHECK(exact.status == Parse::done && exact.consumed == r.consumed);
  for (size_t i = 0; i < r.consumed; ++i) FUZZ_CHECK(parse(in.first(i)).status == Parse::need_more);
  return r;
}

inline bool same_bytes(const Bytes& a, ByteSpan b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != std::to_integer<uint8_t>(b[i])) return false;
  return true;
}

}  // namespace braid::fuzz
