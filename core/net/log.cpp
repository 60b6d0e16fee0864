#include "net/log.hpp"

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <deque>
#include <mutex>

#include <sys/time.h>

namespace braid::log {

namespace {
std::atomic<Level> g_level{Level::info};
constexpr size_t kKeep = 1000;
std::mutex g_recent_mutex;
std::deque<std::string> g_recent;
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
  char line[2200];
  std::snprintf(line, sizeof line, "%02d:%02d:%02d.%03ld %-5s %s", t.tm_hour, t.tm_min, t.tm_sec,
                static_cast<long>(tv.tv_usec / 1000), name(l), msg);
  // One fprintf per line keeps lines whole when several threads log.
  std::fprintf(stderr, "%s\n", line);
  std::lock_guard<std::mutex> lock(g_recent_mutex);
  g_recent.emplace_back(line);
  if (g_recent.size() > kKeep) g_recent.pop_front();
}

std::vector<std::string> recent(size_t n) {
  std::lock_guard<std::mutex> lock(g_recent_mutex);
  const size_t from = g_recent.size() > n ? g_recent.size() - n : 0;
  return {g_recent.begin() + static_cast<std::ptrdiff_t>(from), g_recent.end()};
}

}  // namespace braid::log
