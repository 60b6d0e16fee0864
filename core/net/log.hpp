// Process-wide logging to stderr: one line per event, with a level and, for
// sessions, the session id ("[s42]") so a connection can be followed.
#pragma once

#include <string>
#include <vector>

namespace braid::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

void set_level(Level level);
Level level();
/// "debug", "info", "warn", "error"; info for anything else.
Level parse_level(const std::string& name);
bool enabled(Level l);
void write(Level l, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
/// The most recent log lines (at most @p n, oldest first); the last 1000 are kept.
std::vector<std::string> recent(size_t n);

}  // namespace braid::log

#define BRAID_LOG(lvl, ...)                                               \
  do {                                                                    \
    if (::braid::log::enabled(::braid::log::Level::lvl))                  \
      ::braid::log::write(::braid::log::Level::lvl, __VA_ARGS__);         \
  } while (0)
