#include "tunnel/datagram.hpp"

#include <cstring>

#include <openssl/evp.h>

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

// AES-256-GCM nonce: DIR (1) PATH (1) 00 00 SEQ (8). A sender never reuses
// a sequence number on one path, and redundant copies of one datagram (same
// SEQ) go on different paths, so no (key, nonce) pair repeats; the direction
// byte keeps the two senders of one association apart.
std::array<uint8_t, 12> nonce_of(ByteSpan header) {
  std::array<uint8_t, 12> n{};
  n[0] = byte_at(header, 1) & 0x80;
  n[1] = byte_at(header, 14);
  for (size_t i = 0; i < 8; ++i) n[4 + i] = byte_at(header, 6 + i);
  return n;
}

struct CipherCtx {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ~CipherCtx() { EVP_CIPHER_CTX_free(ctx); }
};

// Encrypts out[kHeaderLength..] in place and appends the tag; the header is
// authenticated, not encrypted (the receiver needs ASSOC before it has a key).
bool seal(const Key& key, Bytes& out) {
  CipherCtx c;
  const auto nonce = nonce_of(bytes_of(out));
  int len = 0;
  const int body = static_cast<int>(out.size() - kHeaderLength);
  if (!c.ctx || EVP_EncryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, key.data(), nonce.data()) != 1 ||
      EVP_EncryptUpdate(c.ctx, nullptr, &len, out.data(), static_cast<int>(kHeaderLength)) != 1 ||
      (body > 0 && EVP_EncryptUpdate(c.ctx, out.data() + kHeaderLength, &len, out.data() + kHeaderLength, body) != 1) ||
      EVP_EncryptFinal_ex(c.ctx, out.data() + out.size(), &len) != 1)
    return false;
  uint8_t tag[kTagLength];
  if (EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, kTagLength, tag) != 1) return false;
  out.insert(out.end(), tag, tag + kTagLength);
  return true;
}

// Checks the tag and decrypts the body into @p plain; false when forged.
bool open_packet(const Key& key, ByteSpan in, Bytes& plain) {
  CipherCtx c;
  const size_t body = in.size() - kHeaderLength - kTagLength;
  const auto nonce = nonce_of(in);
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  uint8_t tag[kTagLength];
  std::memcpy(tag, p + in.size() - kTagLength, kTagLength);
  plain.resize(body + 16);  // GCM adds nothing at the end; the slack keeps Final's pointer valid
  int len = 0;
  if (!c.ctx || EVP_DecryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, key.data(), nonce.data()) != 1) return false;
  if (EVP_DecryptUpdate(c.ctx, nullptr, &len, p, static_cast<int>(kHeaderLength)) != 1) return false;
  if (body > 0 && EVP_DecryptUpdate(c.ctx, plain.data(), &len, p + kHeaderLength, static_cast<int>(body)) != 1)
    return false;
  if (EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, kTagLength, tag) != 1) return false;
  // Final compares the tag (in constant time); nothing is trusted before it.
  if (EVP_DecryptFinal_ex(c.ctx, plain.data() + body, &len) != 1) return false;
  plain.resize(body);
  return true;
}

}  // namespace

std::array<uint8_t, 4> exporter_context(uint32_t association) {
  return {static_cast<uint8_t>(association >> 24), static_cast<uint8_t>(association >> 16),
          static_cast<uint8_t>(association >> 8), static_cast<uint8_t>(association)};
}

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
  const uint8_t sched = p.type == Type::data ? static_cast<uint8_t>((p.sched & 3) << 4) : 0;
  out.push_back(static_cast<uint8_t>(static_cast<uint8_t>(p.type) | sched | static_cast<uint8_t>(d)));
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
      if (p.interval_ms) put_be(out, p.interval_ms, 2);
    }
  }
  if (!seal(key, out)) out.clear();  // only if OpenSSL fails: nothing is sent
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
  Bytes plain;
  if (!open_packet(key, in, plain)) return Error::bad_tag;
  if ((byte_at(in, 1) & 0x80) != static_cast<uint8_t>(expected)) return Error::wrong_direction;
  const uint8_t type = byte_at(in, 1) & 0x0f;
  const uint8_t sched = (byte_at(in, 1) >> 4) & 3;
  // Bit 6 is reserved; the scheduler bits only mean something on data.
  if (type < 1 || type > 3 || (byte_at(in, 1) & 0x40) || (sched && type != 1)) return Error::bad_type;
  out = Packet{};
  out.type = static_cast<Type>(type);
  out.sched = sched;
  out.association = static_cast<uint32_t>(get_be(in, 2, 4));
  out.seq = get_be(in, 6, 8);
  out.path = byte_at(in, 14);
  ByteSpan rest = bytes_of(plain);
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
    // INTERVAL_MS is optional (a client without it probes every 500 ms).
    if (rest.size() >= 9 + n * 7 + 2) out.interval_ms = static_cast<uint16_t>(get_be(rest, 9 + n * 7, 2));
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
