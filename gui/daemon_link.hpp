// How the GUI stands with the daemon's control API.
#pragma once

namespace braid::gui {

enum class DaemonLink {
  connecting,   ///< first attempt in flight
  reachable,    ///< answering, and the event stream is open
  unreachable,  ///< nothing answers (or it stopped answering); retrying
  rejected,     ///< something answers but will not serve us (token, version); retrying
};

}  // namespace braid::gui
