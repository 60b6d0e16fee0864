// Access keys: one line that tells a client everything it needs to use a
// concentrator — where it is, who the user is, the user's token and the
// fingerprint of the concentrator's public key:
//   braid://USER:TOKEN@HOST:PORT?fp=sha256:HEX
#pragma once

#include <optional>
#include <string>

#include "net/address.hpp"
#include "net/tls.hpp"

namespace braid::access {

struct AccessKey {
  std::string user;
  std::string token;
  Destination address;  ///< host (name or IP) and port
  net::Fingerprint fingerprint{};
};

/// The line `braid-concentrator init` / `user add` print.
std::string format(const AccessKey& key);

/// Parses a line; nullopt and @p error saying which part is wrong.
std::optional<AccessKey> parse(const std::string& text, std::string& error);

/// User names: 1–64 of A–Z a–z 0–9 . _ - (safe in URLs, logs and JSON keys).
bool valid_user_name(const std::string& name);
/// Tokens: 16–255 of A–Z a–z 0–9 - _ (base64url).
bool valid_token(const std::string& token);

/// A new random token: 24 bytes from the CSPRNG, base64url (32 characters).
std::string make_token();

}  // namespace braid::access
