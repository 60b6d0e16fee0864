#include "config/config.hpp"

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace braid::config {

namespace {

using nlohmann::json;

// Thrown inside this file only, and turned into the error string at the edge.
struct FieldError {
  std::string message;
};

[[noreturn]] void field_error(const std::string& path, const std::string& what) {
  throw FieldError{path + ": " + what};
}

std::string join(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

void reject_unknown(const json& obj, const std::string& path, std::set<std::string> known) {
  if (!obj.is_object()) field_error(path.empty() ? "(top level)" : path, "expected a JSON object");
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (!known.count(it.key())) {
      std::string allowed;
      for (const auto& k : known) allowed += (allowed.empty() ? "" : ", ") + k;
      field_error(join(path, it.key()), "unknown setting; allowed here: " + allowed);
    }
  }
}

std::string get_string(const json& v, const std::string& path) {
  if (!v.is_string()) field_error(path, "expected a string, got " + v.dump());
  return v.get<std::string>();
}

bool get_bool(const json& v, const std::string& path) {
  if (!v.is_boolean()) field_error(path, "expected true or false, got " + v.dump());
  return v.get<bool>();
}

uint32_t get_u32(const json& v, const std::string& path, uint32_t min, uint32_t max) {
  if (!v.is_number_integer() || v.get<int64_t>() < min || v.get<int64_t>() > max)
    field_error(path, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max) + ", got " +
                          v.dump());
  return static_cast<uint32_t>(v.get<int64_t>());
}

Destination get_endpoint(const json& v, const std::string& path) {
  std::string why;
  auto d = parse_host_port(get_string(v, path), &why);
  if (!d) field_error(path, why + " (for example \"127.0.0.1:1080\" or \"[::1]:1080\"), got " + v.dump());
  return *d;
}

// An optional listener: a "host:port" string, or null / "" / false to disable.
std::optional<Destination> get_listener(const json& v, const std::string& path) {
  if (v.is_null() || (v.is_string() && v.get<std::string>().empty()) || (v.is_boolean() && !v.get<bool>()))
    return std::nullopt;
  return get_endpoint(v, path);
}

std::string get_log_level(const json& v, const std::string& path) {
  auto s = get_string(v, path);
  if (s != "debug" && s != "info" && s != "warn" && s != "error")
    field_error(path, "expected one of debug, info, warn, error, got " + v.dump());
  return s;
}

void read_limits(const json& v, const std::string& path, Limits& l) {
  reject_unknown(v, path,
                 {"max_connections", "handshake_timeout_ms", "connect_timeout_ms", "idle_timeout_ms", "buffer_bytes"});
  if (v.contains("max_connections"))
    l.max_connections = get_u32(v["max_connections"], join(path, "max_connections"), 1, 1000000);
  if (v.contains("handshake_timeout_ms"))
    l.handshake_timeout_ms = get_u32(v["handshake_timeout_ms"], join(path, "handshake_timeout_ms"), 100, 3600000);
  if (v.contains("connect_timeout_ms"))
    l.connect_timeout_ms = get_u32(v["connect_timeout_ms"], join(path, "connect_timeout_ms"), 100, 3600000);
  if (v.contains("idle_timeout_ms"))
    l.idle_timeout_ms = get_u32(v["idle_timeout_ms"], join(path, "idle_timeout_ms"), 1000, 86400000);
  if (v.contains("buffer_bytes"))
    l.buffer_bytes = get_u32(v["buffer_bytes"], join(path, "buffer_bytes"), 4096, 64 * 1024 * 1024);
}

template <typename T, typename Fn>
std::optional<T> parse_with(const std::string& text, std::string& error, Fn&& fill) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    error = std::string("not valid JSON: ") + e.what();
    return std::nullopt;
  }
  try {
    T out = fill(root);
    if (!validate(out, error)) return std::nullopt;
    return out;
  } catch (const FieldError& e) {
    error = e.message;
  } catch (const json::exception& e) {
    error = e.what();
  }
  return std::nullopt;
}

}  // namespace

ClientConfig default_client_config() {
  ClientConfig c;
  c.socks_listen = parse_host_port("127.0.0.1:1080");
  c.http_listen = parse_host_port("127.0.0.1:8118");
  return c;
}

ConcentratorConfig default_concentrator_config() {
  ConcentratorConfig c;
  c.listen = *parse_host_port("0.0.0.0:7300");
  return c;
}

std::optional<ClientConfig> parse_client_config(const std::string& text, std::string& error) {
  return parse_with<ClientConfig>(text, error, [](const json& root) {
    ClientConfig c = default_client_config();
    reject_unknown(root, "", {"socks", "http", "mixed", "auth", "concentrator", "mptcp", "limits", "log_level"});
    if (root.contains("socks")) c.socks_listen = get_listener(root["socks"], "socks");
    if (root.contains("http")) c.http_listen = get_listener(root["http"], "http");
    if (root.contains("mixed")) c.mixed_listen = get_listener(root["mixed"], "mixed");
    if (root.contains("auth") && !root["auth"].is_null()) {
      const auto& a = root["auth"];
      reject_unknown(a, "auth", {"username", "password"});
      if (!a.contains("username")) field_error("auth.username", "required when auth is set");
      if (!a.contains("password")) field_error("auth.password", "required when auth is set");
      c.auth = Credentials{get_string(a["username"], "auth.username"), get_string(a["password"], "auth.password")};
    }
    if (root.contains("concentrator") && !root["concentrator"].is_null()) {
      const auto& k = root["concentrator"];
      reject_unknown(k, "concentrator", {"address", "token"});
      if (!k.contains("address")) field_error("concentrator.address", "required (\"host:port\")");
      if (!k.contains("token")) field_error("concentrator.token", "required (the token the concentrator accepts)");
      c.concentrator = Concentrator{get_endpoint(k["address"], "concentrator.address"),
                                    get_string(k["token"], "concentrator.token")};
    }
    if (root.contains("mptcp")) c.mptcp = get_bool(root["mptcp"], "mptcp");
    if (root.contains("limits")) read_limits(root["limits"], "limits", c.limits);
    if (root.contains("log_level")) c.log_level = get_log_level(root["log_level"], "log_level");
    return c;
  });
}

std::optional<ConcentratorConfig> parse_concentrator_config(const std::string& text, std::string& error) {
  return parse_with<ConcentratorConfig>(text, error, [](const json& root) {
    ConcentratorConfig c = default_concentrator_config();
    reject_unknown(root, "", {"listen", "tokens", "mptcp", "mptcp_subflows", "limits", "log_level"});
    if (root.contains("listen")) c.listen = get_endpoint(root["listen"], "listen");
    if (root.contains("tokens")) {
      const auto& t = root["tokens"];
      if (!t.is_array()) field_error("tokens", "expected an array of strings, got " + t.dump());
      for (size_t i = 0; i < t.size(); ++i) c.tokens.push_back(get_string(t[i], "tokens[" + std::to_string(i) + "]"));
    }
    if (root.contains("mptcp")) c.mptcp = get_bool(root["mptcp"], "mptcp");
    if (root.contains("mptcp_subflows")) c.mptcp_subflows = get_u32(root["mptcp_subflows"], "mptcp_subflows", 0, 8);
    if (root.contains("limits")) read_limits(root["limits"], "limits", c.limits);
    if (root.contains("log_level")) c.log_level = get_log_level(root["log_level"], "log_level");
    return c;
  });
}

namespace {
bool check_token(const std::string& token, const std::string& path, std::string& error) {
  if (token.empty() || token.size() > 255) {
    error = path + ": the token must be 1 to 255 bytes long";
    return false;
  }
  return true;
}
}  // namespace

bool validate(const ClientConfig& c, std::string& error) {
  if (!c.socks_listen && !c.http_listen && !c.mixed_listen) {
    error = "socks, http, mixed: at least one listener is needed";
    return false;
  }
  if (c.auth && (c.auth->username.empty() || c.auth->username.size() > 255 || c.auth->password.size() > 255)) {
    error = "auth: the username must be 1 to 255 bytes and the password at most 255 (RFC 1929)";
    return false;
  }
  if (c.concentrator && !check_token(c.concentrator->token, "concentrator.token", error)) return false;
  return true;
}

bool validate(const ConcentratorConfig& c, std::string& error) {
  if (c.tokens.empty()) {
    error = "tokens: at least one client token is needed, or the concentrator would be an open relay";
    return false;
  }
  for (size_t i = 0; i < c.tokens.size(); ++i)
    if (!check_token(c.tokens[i], "tokens[" + std::to_string(i) + "]", error)) return false;
  return true;
}

std::string default_config_path(const std::string& file) {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) return std::string(xdg) + "/braid/" + file;
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.config/braid/" + file;
  return "/etc/braid/" + file;
}

bool read_file(const std::string& path, std::string& out, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open " + path;
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

}  // namespace braid::config
