// The concentrator's users: a JSON file of user names and the SHA-256 of each
// user's token (the token itself is never stored: it is 24 random bytes, so a
// plain hash cannot be reversed by guessing). `braid-concentrator user
// add/revoke` edit the file; a running concentrator reloads it on SIGHUP.
//   {"users": {"alice": {"token_sha256": "64 hex digits"}}}
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace braid::concentrator {

using TokenHash = std::array<uint8_t, 32>;

TokenHash hash_token(const std::string& token);

class Users {
 public:
  /// Parses the file's text; nullopt and @p error naming the field.
  static std::optional<Users> parse(const std::string& json_text, std::string& error);
  static std::optional<Users> load(const std::string& path, std::string& error);
  std::string to_json() const;

  /// True when @p user exists and @p token is its token. Takes the same time
  /// whether the user exists or not, and compares hashes in constant time.
  bool check(const std::string& user, const std::string& token) const;

  bool contains(const std::string& user) const { return users_.count(user) != 0; }
  /// Adds or replaces @p user's token.
  void set(const std::string& user, const std::string& token) { users_[user] = hash_token(token); }
  bool remove(const std::string& user) { return users_.erase(user) != 0; }
  size_t size() const { return users_.size(); }

 private:
  std::map<std::string, TokenHash> users_;
};

}  // namespace braid::concentrator
