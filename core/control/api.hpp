// The control API's resources (docs/API.md): status, paths, mode,
// connections, traffic (Server-Sent Events), config and logs, as JSON over
// the ApiServer.
#pragma once

#include <string>

#include "control/api_server.hpp"

namespace braid::client {
class Engine;
}

namespace braid::control {

/// Routes requests to the engine.
ApiServer::Handler make_handler(client::Engine& engine);

/// One traffic event: per-path rates and totals now (sent once a second).
std::string traffic_event(client::Engine& engine);

/// One paths event: the path list after a change.
std::string paths_event(client::Engine& engine);

}  // namespace braid::control
