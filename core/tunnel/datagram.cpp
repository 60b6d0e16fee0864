#include "tunnel/datagram.hpp"

#include <cstring>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace braid::datagram {

namespace {

void put_be(Bytes& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

uint64_t get_be(ByteSpan in, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = v << 8 | byte_at(in, at + static_cast<size_t>(i));
  return v;
}

std::array<uint8_t, 32> mac(const Key& key, const uint8_t* data, size_t len) {
  std::array<uint8_t, 32> out{};
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data, len, out.data(), &n);
  return out;
}

}  // namespace

const char* error_name(Error e) {
  switch (e) {
    case Error::none: return "ok";
    case Error::too_short: return "too short";
    case Error::bad_magic: return "not a Braid datagram";
    case Error::bad_type: return "unknown type";
    case Error::bad_tag: return "authentication failed";
    case Error::malformed: return "malformed";
    case Error::wrong_direction: return "sent the other way";
  }
  return "?";
}

Bytes encode(const Packet& p, const Key& key, Direction d) {
  Bytes out;
  out.push_back(kMagic);
  out.push_back(static_cast<uint8_t>(static_cast<uint8_t>(p.type) | static_cast<uint8_t>(d)));
  put_be(out, p.association, 4);
  put_be(out, p.seq, 8);
  out.push_back(p.path);
  if (p.type == Type::data) {
    encode_address(p.address, out);
    out.insert(out.end(), p.payload.begin(), p.payload.end());
  } else {
    put_be(out, p.sent_us, 8);
    if (p.type == Type::probe) {
      out.push_back(static_cast<uint8_t>(p.paths.size()));
      for (const auto& r : p.paths) {
        out.push_back(r.path);
        out.push_back(static_cast<uint8_t>((r.live ? 1 : 0) | (r.backup ? 2 : 0)));
        put_be(out, r.rtt_us, 4);
        out.push_back(r.loss_percent);
      }
    }
  }
  auto tag = mac(key, out.data(), out.size());
  out.insert(out.end(), tag.begin(), tag.begin() + kTagLength);
  return out;
}

bool peek_association(ByteSpan in, uint32_t& association) {
  if (in.size() < kHeaderLength + kTagLength || byte_at(in, 0) != kMagic) return false;
  association = static_cast<uint32_t>(get_be(in, 2, 4));
  return true;
}

Error decode(ByteSpan in, const Key& key, Direction expected, Packet& out) {
  if (in.size() < kHeaderLength + kTagLength) return Error::too_short;
  if (byte_at(in, 0) != kMagic) return Error::bad_magic;
  const size_t body = in.size() - kTagLength;
  auto tag = mac(key, reinterpret_cast<const uint8_t*>(in.data()), body);
  if (CRYPTO_memcmp(tag.data(), in.data() + body, kTagLength) != 0) return Error::bad_tag;
  if ((byte_at(in, 1) & 0x80) != static_cast<uint8_t>(expected)) return Error::wrong_direction;
  const uint8_t type = byte_at(in, 1) & 0x7f;
  if (type < 1 || type > 3) return Error::bad_type;
  out = Packet{};
  out.type = static_cast<Type>(type);
  out.association = static_cast<uint32_t>(get_be(in, 2, 4));
  out.seq = get_be(in, 6, 8);
  out.path = byte_at(in, 14);
  ByteSpan rest = in.subspan(kHeaderLength, body - kHeaderLength);
  if (out.type == Type::data) {
    auto a = decode_address(rest);
    if (a.status != Parse::done) return Error::malformed;
    out.address = std::move(a.value);
    out.payload.assign(reinterpret_cast<const char*>(rest.data() + a.consumed), rest.size() - a.consumed);
    return Error::none;
  }
  if (rest.size() < 8) return Error::malformed;
  out.sent_us = get_be(rest, 0, 8);
  if (out.type == Type::probe) {
    if (rest.size() < 9) return Error::malformed;
    const size_t n = byte_at(rest, 8);
    if (rest.size() < 9 + n * 7) return Error::malformed;
    for (size_t i = 0; i < n; ++i) {
      const size_t at = 9 + i * 7;
      PathReport r;
      r.path = byte_at(rest, at);
      r.live = byte_at(rest, at + 1) & 1;
      r.backup = byte_at(rest, at + 1) & 2;
      r.rtt_us = static_cast<uint32_t>(get_be(rest, at + 2, 4));
      r.loss_percent = byte_at(rest, at + 6);
      out.paths.push_back(r);
    }
  }
  return Error::none;
}

bool ReplayWindow::test_and_set(uint64_t seq) {
  const uint64_t bit = seq % kSize;
  uint64_t& word = bits_[bit / 64];
  const uint64_t mask = uint64_t{1} << (bit % 64);
  const bool seen = word & mask;
  word |= mask;
  return seen;
}

bool ReplayWindow::accept(uint64_t seq) {
  if (!any_ || seq > highest_) {
    // Slide: clear the bits of the numbers that fall between.
    const uint64_t from = any_ ? highest_ + 1 : seq;
    if (!any_ || seq - highest_ >= kSize) {
      bits_.fill(0);
    } else {
      for (uint64_t s = from; s < seq; ++s) {
        const uint64_t bit = s % kSize;
        bits_[bit / 64] &= ~(uint64_t{1} << (bit % 64));
      }
    }
    const uint64_t bit = seq % kSize;
    bits_[bit / 64] |= uint64_t{1} << (bit % 64);
    highest_ = seq;
    any_ = true;
    return true;
  }
  if (highest_ - seq >= kSize) return false;  // too old to tell: refuse
  return !test_and_set(seq);
}

}  // namespace braid::datagram
