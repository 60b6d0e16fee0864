// braid-concentrator's administration verbs: `init` (key, certificate, users
// file, config and the first access key) and `user add/revoke/list`. They
// edit files only; a running concentrator picks up users on SIGHUP.
#pragma once

#include <string>

#include "config/config.hpp"

namespace braid::cmd {

struct InitOptions {
  std::string dir = "/etc/braid";
  std::string host;  ///< what clients connect to; default: this machine's name
  uint16_t port = 7300;
  std::string user = "braid";
  bool force = false;  ///< replace an existing key and users file
};

int concentrator_init(const InitOptions& o);
int concentrator_user_add(const std::string& config_path, const std::string& name, const std::string& host);
int concentrator_user_revoke(const std::string& config_path, const std::string& name);
int concentrator_user_list(const std::string& config_path);

/// Makes the config's relative file names (users_file, tls.cert, tls.key)
/// relative to the directory of @p config_path.
void resolve_relative_paths(config::ConcentratorConfig& cfg, const std::string& config_path);

}  // namespace braid::cmd
