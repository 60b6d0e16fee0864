#include "concentrator/users.hpp"

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "config/config.hpp"
#include "tunnel/access_key.hpp"

namespace braid::concentrator {

TokenHash hash_token(const std::string& token) {
  TokenHash h{};
  unsigned int n = 0;
  EVP_Digest(token.data(), token.size(), h.data(), &n, EVP_sha256(), nullptr);
  return h;
}

namespace {
std::string to_hex(const TokenHash& h) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (uint8_t b : h) {
    s += hex[b >> 4];
    s += hex[b & 15];
  }
  return s;
}

bool from_hex(const std::string& s, TokenHash& out) {
  if (s.size() != 64) return false;
  for (size_t i = 0; i < 32; ++i) {
    unsigned v = 0;
    for (int k = 0; k < 2; ++k) {
      const char c = s[2 * i + static_cast<size_t>(k)];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
      else return false;
    }
    out[i] = static_cast<uint8_t>(v);
  }
  return true;
}
}  // namespace

std::optional<Users> Users::parse(const std::string& text, std::string& error) {
  using nlohmann::json;
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    error = std::string("not valid JSON: ") + e.what();
    return std::nullopt;
  }
  if (!root.is_object() || !root.contains("users") || !root["users"].is_object()) {
    error = "users: expected {\"users\": {\"NAME\": {\"token_sha256\": \"HEX\"}}}";
    return std::nullopt;
  }
  Users u;
  for (auto it = root["users"].begin(); it != root["users"].end(); ++it) {
    const std::string at = "users." + it.key();
    if (!access::valid_user_name(it.key())) {
      error = at + ": a user name is 1 to 64 letters, digits, '.', '_' or '-'";
      return std::nullopt;
    }
    const auto& v = it.value();
    TokenHash h{};
    if (!v.is_object() || !v.contains("token_sha256") || !v["token_sha256"].is_string() ||
        !from_hex(v["token_sha256"].get<std::string>(), h)) {
      error = at + ".token_sha256: expected 64 hex digits (the SHA-256 of the user's token)";
      return std::nullopt;
    }
    u.users_[it.key()] = h;
  }
  return u;
}

std::optional<Users> Users::load(const std::string& path, std::string& error) {
  std::string text;
  if (!config::read_file(path, text, error)) return std::nullopt;
  auto u = parse(text, error);
  if (!u) error = path + ": " + error;
  return u;
}

std::string Users::to_json() const {
  nlohmann::json users = nlohmann::json::object();
  for (const auto& [name, h] : users_) users[name] = {{"token_sha256", to_hex(h)}};
  return nlohmann::json{{"users", users}}.dump(2) + "\n";
}

bool Users::check(const std::string& user, const std::string& token) const {
  const TokenHash got = hash_token(token);
  // An unknown user is compared against a hash no token has, so a wrong
  // name costs the same time as a wrong token.
  static const TokenHash nothing{};
  auto it = users_.find(user);
  const TokenHash& want = it == users_.end() ? nothing : it->second;
  const bool equal = CRYPTO_memcmp(got.data(), want.data(), want.size()) == 0;
  return equal && it != users_.end();
}

}  // namespace braid::concentrator
