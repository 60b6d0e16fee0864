#include "net/log.hpp"

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <ctime>

#include <sys/time.h>

namespace braid::log {

namespace {
std::atomic<Level> g_level{Level::info};
const char* name(Level l) {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "?";
}
}  // namespace

void set_level(Level l) { g_level = l; }
Level level() { return g_level; }
bool enabled(Level l) { return l >= g_level.load(std::memory_order_relaxed); }

Level parse_level(const std::string& n) {
  if (n == "debug") return Level::debug;
  if (n == "warn") return Level::warn;
  if (n == "error") return Level::error;
  return Level::info;
}

void write(Level l, const char* fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  timeval tv;
  gettimeofday(&tv, nullptr);
  tm t;
  localtime_r(&tv.tv_sec, &t);
  // One fprintf per line keeps lines whole when several threads log.
  std::fprintf(stderr, "%02d:%02d:%02d.%03ld %-5s %s\n", t.tm_hour, t.tm_min, t.tm_sec,
               static_cast<long>(tv.tv_usec / 1000), name(l), msg);
}

}  // namespace braid::log
