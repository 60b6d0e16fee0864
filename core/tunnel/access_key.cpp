#include "tunnel/access_key.hpp"

#include <cstring>

#include <openssl/rand.h>

namespace braid::access {

namespace {
constexpr const char* kScheme = "braid://";

bool all_of(const std::string& s, const char* extra) {
  for (char c : s) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && !std::strchr(extra, c)) return false;
  }
  return true;
}
}  // namespace

bool valid_user_name(const std::string& name) {
  return !name.empty() && name.size() <= 64 && all_of(name, "._-");
}

bool valid_token(const std::string& token) {
  return token.size() >= 16 && token.size() <= 255 && all_of(token, "-_");
}

std::string make_token() {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  unsigned char raw[24];
  if (RAND_bytes(raw, sizeof raw) != 1) return {};
  std::string out;
  for (size_t i = 0; i < sizeof raw; i += 3) {
    const uint32_t v = static_cast<uint32_t>(raw[i]) << 16 | static_cast<uint32_t>(raw[i + 1]) << 8 | raw[i + 2];
    for (int k = 3; k >= 0; --k) out += alphabet[(v >> (6 * k)) & 63];
  }
  return out;
}

std::string format(const AccessKey& key) {
  return kScheme + key.user + ":" + key.token + "@" + key.address.to_string() +
         "?fp=" + net::fingerprint_to_string(key.fingerprint);
}

std::optional<AccessKey> parse(const std::string& input, std::string& error) {
  std::string text = input;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  while (!text.empty() && text.front() == ' ') text.erase(0, 1);
  if (text.rfind(kScheme, 0) != 0) {
    error = "an access key starts with braid:// (braid://USER:TOKEN@HOST:PORT?fp=sha256:HEX)";
    return std::nullopt;
  }
  const std::string rest = text.substr(std::strlen(kScheme));
  const size_t at = rest.find('@');
  const size_t q = rest.find('?');
  if (at == std::string::npos || q == std::string::npos || q < at) {
    error = "expected braid://USER:TOKEN@HOST:PORT?fp=sha256:HEX";
    return std::nullopt;
  }
  const std::string userinfo = rest.substr(0, at);
  const size_t colon = userinfo.find(':');
  AccessKey k;
  if (colon == std::string::npos) {
    error = "the user and token are missing (USER:TOKEN before the @)";
    return std::nullopt;
  }
  k.user = userinfo.substr(0, colon);
  k.token = userinfo.substr(colon + 1);
  if (!valid_user_name(k.user)) {
    error = "user \"" + k.user + "\": expected 1 to 64 letters, digits, '.', '_' or '-'";
    return std::nullopt;
  }
  if (!valid_token(k.token)) {
    error = "the token must be 16 to 255 letters, digits, '-' or '_'";
    return std::nullopt;
  }
  std::string why;
  auto addr = parse_host_port(rest.substr(at + 1, q - at - 1), &why);
  if (!addr) {
    error = "concentrator address: " + why;
    return std::nullopt;
  }
  k.address = *addr;
  const std::string query = rest.substr(q + 1);
  if (query.rfind("fp=", 0) != 0) {
    error = "the fingerprint is missing (?fp=sha256:HEX)";
    return std::nullopt;
  }
  auto fp = net::parse_fingerprint(query.substr(3));
  if (!fp) {
    error = "fingerprint: expected sha256: and 64 hex digits";
    return std::nullopt;
  }
  k.fingerprint = *fp;
  return k;
}

}  // namespace braid::access
