// Byte spans and the result type shared by Braid's pure protocol codecs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace braid {

using ByteSpan = std::span<const std::byte>;
using Bytes = std::vector<uint8_t>;

inline ByteSpan bytes_of(const void* data, size_t len) { return {static_cast<const std::byte*>(data), len}; }
inline ByteSpan bytes_of(const Bytes& b) { return bytes_of(b.data(), b.size()); }
inline ByteSpan bytes_of(const std::string& s) { return bytes_of(s.data(), s.size()); }
inline uint8_t byte_at(ByteSpan s, size_t i) { return std::to_integer<uint8_t>(s[i]); }
inline uint16_t be16_at(ByteSpan s, size_t i) {
  return static_cast<uint16_t>(byte_at(s, i) << 8 | byte_at(s, i + 1));
}
inline void put_be16(Bytes& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v & 0xff));
}

/// How far a codec got with the bytes it was given.
enum class Parse { need_more, done, error };

/**
 * Result of a codec call: need_more (feed more bytes, nothing consumed),
 * done (value holds the message and consumed how many bytes it took) or
 * error (code says which protocol error to answer with).
 */
template <typename T>
struct ParseResult {
  Parse status = Parse::need_more;
  size_t consumed = 0;
  T value{};
  uint8_t code = 0;

  static ParseResult more() { return {}; }
  static ParseResult ok(size_t n, T v) { return {Parse::done, n, std::move(v), 0}; }
  static ParseResult fail(uint8_t c) { return {Parse::error, 0, T{}, c}; }
};

}  // namespace braid
