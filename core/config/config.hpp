// Braid's configuration: the JSON schema of the client and the concentrator,
// their defaults, and validation whose errors name the field and what it
// accepts. JSON exceptions stop here (STYLE.md rule 5).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/address.hpp"

namespace braid::config {

/// Explicit resource limits, shared by both programs.
struct Limits {
  uint32_t max_connections = 4096;        ///< sessions at once; more are refused
  uint32_t handshake_timeout_ms = 10000;  ///< from accept to a relaying session
  uint32_t connect_timeout_ms = 10000;    ///< one upstream connect attempt
  uint32_t idle_timeout_ms = 300000;      ///< no bytes either way
  uint32_t buffer_bytes = 256 * 1024;     ///< per direction, before reading pauses
};

struct Credentials {
  std::string username;
  std::string password;
};

struct Concentrator {
  Destination address;  ///< host:port, a name is resolved at connect time
  std::string token;
};

/// The client daemon (`braid up`).
struct ClientConfig {
  std::optional<Destination> socks_listen;  ///< SOCKS5 only
  std::optional<Destination> http_listen;   ///< HTTP proxy only
  std::optional<Destination> mixed_listen;  ///< SOCKS5 and HTTP, told apart by the first byte
  std::optional<Credentials> auth;          ///< required from local apps when set
  std::optional<Concentrator> concentrator; ///< none: connect to destinations directly
  bool mptcp = true;
  Limits limits;
  std::string log_level = "info";
};

/// The server (`braid-concentrator`).
struct ConcentratorConfig {
  Destination listen;
  std::vector<std::string> tokens;  ///< accepted client tokens
  bool mptcp = true;
  uint32_t mptcp_subflows = 8;      ///< path-manager subflow limit to ensure, 0 leaves it alone
  Limits limits;
  std::string log_level = "info";
};

ClientConfig default_client_config();
ConcentratorConfig default_concentrator_config();

/// Parses and validates client JSON; on failure returns nullopt and sets @p error
/// to a message naming the field ("concentrator.token: ...").
std::optional<ClientConfig> parse_client_config(const std::string& json_text, std::string& error);
std::optional<ConcentratorConfig> parse_concentrator_config(const std::string& json_text, std::string& error);

/// $XDG_CONFIG_HOME/braid/<file>, or ~/.config/braid/<file>.
std::string default_config_path(const std::string& file);

/// Reads a whole file; false and @p error when it cannot.
bool read_file(const std::string& path, std::string& out, std::string& error);

/// Checks the combination of settings (at least one listener, token length…).
bool validate(const ClientConfig& c, std::string& error);
bool validate(const ConcentratorConfig& c, std::string& error);

}  // namespace braid::config
