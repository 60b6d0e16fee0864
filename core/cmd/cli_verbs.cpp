#include "cmd/cli_verbs.hpp"

#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "control/api_client.hpp"

namespace braid::cmd {

namespace {

using nlohmann::json;

// Finds the daemon's API address and token the way the daemon does.
bool make_client(const CliTarget& t, std::unique_ptr<control::ApiClient>& out) {
  config::ClientConfig cfg = config::default_client_config();
  const std::string path = t.config_path.empty() ? config::default_config_path("braid.json") : t.config_path;
  std::string text, error;
  if (!t.config_path.empty() || std::filesystem::exists(path)) {
    if (!config::read_file(path, text, error)) {
      std::fprintf(stderr, "braid: %s\n", error.c_str());
      return false;
    }
    auto parsed = config::parse_client_config(text, error);
    if (!parsed) {
      std::fprintf(stderr, "braid: config %s: %s\n", path.c_str(), error.c_str());
      return false;
    }
    cfg = *parsed;
  }
  if (!cfg.control && t.api.empty()) {
    std::fprintf(stderr, "braid: the control API is off in %s (control: null)\n", path.c_str());
    return false;
  }
  Destination api = cfg.control ? cfg.control->listen : Destination{};
  if (!t.api.empty()) {
    auto d = parse_host_port(t.api, &error);
    if (!d) {
      std::fprintf(stderr, "braid: --api %s: %s\n", t.api.c_str(), error.c_str());
      return false;
    }
    api = *d;
  }
  const std::string token_file = !t.token_file.empty() ? t.token_file : cfg.control ? cfg.control->token_file : "";
  std::string token;
  if (!config::read_file(token_file, token, error)) {
    std::fprintf(stderr, "braid: cannot read the control API token (%s); is `braid up` running as this user?\n",
                 error.c_str());
    return false;
  }
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  out = std::make_unique<control::ApiClient>(api, token);
  return true;
}

// One request; prints the error and returns false on any failure.
bool call(const CliTarget& t, const std::string& method, const std::string& path, const std::string& body, json& out) {
  std::unique_ptr<control::ApiClient> client;
  if (!make_client(t, client)) return false;
  control::ClientResponse r;
  std::string error;
  if (!client->request(method, path, body, r, error)) {
    std::fprintf(stderr, "braid: %s\n", error.c_str());
    return false;
  }
  try {
    out = json::parse(r.body);
  } catch (const json::exception&) {
    std::fprintf(stderr, "braid: the daemon answered %d with: %s\n", r.status, r.body.c_str());
    return false;
  }
  if (r.status >= 400) {
    std::fprintf(stderr, "braid: %s\n", out.value("error", r.body).c_str());
    return false;
  }
  return true;
}

std::string human_bytes(double b) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000 && u < 4) {
    b /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", b, units[u]);
  return buf;
}

std::string human_rate(double bps) {
  const char* units[] = {"b/s", "kb/s", "Mb/s", "Gb/s"};
  int u = 0;
  while (bps >= 1000 && u < 3) {
    bps /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", bps, units[u]);
  return buf;
}

void print_paths_table(const json& paths) {
  std::printf("%-10s %-9s %-8s %-7s %11s %11s %8s %10s %10s %10s %10s\n", "PATH", "KIND", "STATE", "POLICY", "DOWN/s",
              "UP/s", "RTT", "SESSION-DN", "SESSION-UP", "TOTAL-DN", "TOTAL-UP");
  for (const auto& p : paths) {
    char rtt[16];
    std::snprintf(rtt, sizeof rtt, "%.1f ms", p["rtt_ms"].get<double>());
    std::printf("%-10s %-9s %-8s %-7s %11s %11s %8s %10s %10s %10s %10s\n", p["name"].get<std::string>().c_str(),
                p["kind"].get<std::string>().c_str(), p["state"].get<std::string>().c_str(),
                p["policy"].get<std::string>().c_str(), human_rate(p["rate_1s"]["down_bps"].get<double>()).c_str(),
                human_rate(p["rate_1s"]["up_bps"].get<double>()).c_str(), rtt,
                human_bytes(p["session"]["down"].get<double>()).c_str(),
                human_bytes(p["session"]["up"].get<double>()).c_str(),
                human_bytes(p["total"]["down"].get<double>()).c_str(), human_bytes(p["total"]["up"].get<double>()).c_str());
  }
}

}  // namespace

int cli_status(const CliTarget& t) {
  json s;
  if (!call(t, "GET", "/v1/status", {}, s)) return 1;
  if (t.json) {
    std::printf("%s\n", s.dump(2).c_str());
    return 0;
  }
  const auto up = s["uptime_s"].get<uint64_t>();
  std::printf("braid %s, up %lluh%02llum%02llus, %llu connection(s)\n", s["version"].get<std::string>().c_str(),
              static_cast<unsigned long long>(up / 3600), static_cast<unsigned long long>(up / 60 % 60),
              static_cast<unsigned long long>(up % 60), static_cast<unsigned long long>(s["connections"].get<uint64_t>()));
  std::string listening;
  for (const auto& l : s["listening"])
    listening += (listening.empty() ? "" : ", ") + l["protocol"].get<std::string>() + " " + l["address"].get<std::string>();
  std::printf("listening:    %s\n", listening.c_str());
  std::printf("upstream:     %s\n", s["concentrator"].is_null()
                                        ? "direct to destinations (no concentrator)"
                                        : ("concentrator " + s["concentrator"].get<std::string>()).c_str());
  std::printf("mptcp:        %s\n", s["mptcp"]["detail"].get<std::string>().c_str());
  if (s.contains("pool") && s["pool"].value("enabled", false)) {
    const auto& p = s["pool"];
    std::printf("pool:         %llu idle, %llu opening (target %llu, %llu-%llu); %llu hits, %llu misses, %llu fallbacks, "
                "%llu refill failures%s\n",
                p["idle"].get<unsigned long long>(), p["opening"].get<unsigned long long>(),
                p["target"].get<unsigned long long>(), p["min"].get<unsigned long long>(),
                p["max"].get<unsigned long long>(), p["hits"].get<unsigned long long>(),
                p["misses"].get<unsigned long long>(), p["fallbacks"].get<unsigned long long>(),
                p["refill_failures"].get<unsigned long long>(),
                p["last_error"].get<std::string>().empty()
                    ? ""
                    : ("; last: " + p["last_error"].get<std::string>()).c_str());
  } else if (!s["concentrator"].is_null()) {
    std::printf("pool:         off (every connect dials the concentrator)\n");
  }
  std::printf("path control: %s\n", s["path_control"]["available"].get<bool>()
                                        ? "available"
                                        : ("unavailable: " + s["path_control"]["reason"].get<std::string>()).c_str());
  std::printf("mode:         %s\n\n", s["mode"].get<std::string>().c_str());
  print_paths_table(s["paths"]);
  return 0;
}

int cli_paths(const CliTarget& t) {
  json p;
  if (!call(t, "GET", "/v1/paths", {}, p)) return 1;
  if (t.json) {
    std::printf("%s\n", p.dump(2).c_str());
    return 0;
  }
  print_paths_table(p);
  return 0;
}

int cli_path(const CliTarget& t, const std::string& name, const std::string& policy) {
  json p;
  if (!call(t, "PUT", "/v1/paths/" + name, json{{"policy", policy}}.dump(), p)) return 1;
  if (t.json)
    std::printf("%s\n", p.dump(2).c_str());
  else
    std::printf("%s is now %s (%s)\n", name.c_str(), p["policy"].get<std::string>().c_str(),
                p["state"].get<std::string>().c_str());
  if (!t.json && p.contains("warning")) std::fprintf(stderr, "braid: warning: %s\n", p["warning"].get<std::string>().c_str());
  return 0;
}

int cli_mode(const CliTarget& t, const std::string& mode) {
  json m;
  if (mode.empty() ? !call(t, "GET", "/v1/mode", {}, m) : !call(t, "PUT", "/v1/mode", json{{"mode", mode}}.dump(), m))
    return 1;
  if (t.json)
    std::printf("%s\n", m.dump(2).c_str());
  else
    std::printf("mode: %s\n", m["mode"].get<std::string>().c_str());
  return 0;
}

int cli_connections(const CliTarget& t) {
  json c;
  if (!call(t, "GET", "/v1/connections", {}, c)) return 1;
  if (t.json) {
    std::printf("%s\n", c.dump(2).c_str());
    return 0;
  }
  std::printf("%-6s %-12s %-36s %-10s %8s %10s %10s  %s\n", "ID", "PROTOCOL", "DESTINATION", "STATE", "AGE", "DOWN",
              "UP", "PER PATH (down)");
  for (const auto& x : c) {
    std::string per;
    for (auto it = x["paths"].begin(); it != x["paths"].end(); ++it)
      per += (per.empty() ? "" : ", ") + it.key() + " " + human_bytes(it.value()["down"].get<double>());
    char age[16];
    std::snprintf(age, sizeof age, "%.0f s", x["age_s"].get<double>());
    std::printf("%-6llu %-12s %-36s %-10s %8s %10s %10s  %s\n",
                static_cast<unsigned long long>(x["id"].get<uint64_t>()), x["protocol"].get<std::string>().c_str(),
                x["destination"].get<std::string>().c_str(), x["state"].get<std::string>().c_str(), age,
                human_bytes(x["bytes_down"].get<double>()).c_str(), human_bytes(x["bytes_up"].get<double>()).c_str(),
                per.c_str());
  }
  return 0;
}

int cli_kill(const CliTarget& t, const std::string& id) {
  json r;
  if (!call(t, "DELETE", "/v1/connections/" + id, {}, r)) return 1;
  std::printf("closed connection %s\n", id.c_str());
  return 0;
}

int cli_top(const CliTarget& t, unsigned seconds) {
  std::unique_ptr<control::ApiClient> client;
  if (!make_client(t, client)) return 1;
  std::string error;
  const bool ok = client->stream(
      "/v1/traffic",
      [&](const std::string& data) {
        if (t.json) {
          std::printf("%s\n", data.c_str());
          std::fflush(stdout);
          return true;
        }
        json e = json::parse(data, nullptr, false);
        if (e.is_discarded() || !e.contains("paths")) return true;
        std::printf("\033[H\033[2Jbraid top — %llu connection(s), Ctrl-C to quit\n\n%-10s %-8s %-7s %11s %11s %8s %10s\n",
                    static_cast<unsigned long long>(e["connections"].get<uint64_t>()), "PATH", "STATE", "POLICY",
                    "DOWN/s", "UP/s", "RTT", "SUBFLOWS");
        for (auto it = e["paths"].begin(); it != e["paths"].end(); ++it) {
          const auto& p = it.value();
          char rtt[16];
          std::snprintf(rtt, sizeof rtt, "%.1f ms", p["rtt_ms"].get<double>());
          std::printf("%-10s %-8s %-7s %11s %11s %8s %10llu\n", it.key().c_str(), p["state"].get<std::string>().c_str(),
                      p["policy"].get<std::string>().c_str(), human_rate(p["down_bps"].get<double>()).c_str(),
                      human_rate(p["up_bps"].get<double>()).c_str(), rtt,
                      static_cast<unsigned long long>(p["subflows"].get<uint64_t>()));
        }
        std::fflush(stdout);
        return true;
      },
      error, seconds);
  if (!ok) {
    std::fprintf(stderr, "braid: %s\n", error.c_str());
    return 1;
  }
  return 0;
}

}  // namespace braid::cmd
