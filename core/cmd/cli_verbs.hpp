// The `braid` CLI verbs that talk to a running daemon over the control API.
#pragma once

#include <string>

namespace braid::cmd {

struct CliTarget {
  std::string config_path;  ///< where to find control.listen / token_file
  std::string api;          ///< overrides control.listen
  std::string token_file;   ///< overrides control.token_file
  bool json = false;        ///< print the API's JSON instead of a table
};

int cli_status(const CliTarget& t);
int cli_paths(const CliTarget& t);
int cli_path(const CliTarget& t, const std::string& name, const std::string& policy);
int cli_mode(const CliTarget& t, const std::string& mode);
int cli_connections(const CliTarget& t);
int cli_kill(const CliTarget& t, const std::string& id);
int cli_top(const CliTarget& t, unsigned seconds);

}  // namespace braid::cmd
