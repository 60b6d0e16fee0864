#include "config/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <unistd.h>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "net/tls.hpp"

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
                 {"max_connections", "handshake_timeout_ms", "connect_timeout_ms", "idle_timeout_ms", "buffer_bytes",
                  "udp_deadline_ms", "zero_copy"});
  if (v.contains("max_connections"))
    l.max_connections = get_u32(v["max_connections"], join(path, "max_connections"), 1, 1000000);
  if (v.contains("handshake_timeout_ms"))
    l.handshake_timeout_ms = get_u32(v["handshake_timeout_ms"], join(path, "handshake_timeout_ms"), 100, 3600000);
  if (v.contains("connect_timeout_ms"))
    l.connect_timeout_ms = get_u32(v["connect_timeout_ms"], join(path, "connect_timeout_ms"), 100, 3600000);
  if (v.contains("idle_timeout_ms"))
    l.idle_timeout_ms = get_u32(v["idle_timeout_ms"], join(path, "idle_timeout_ms"), 1000, 86400000);
  if (v.contains("udp_deadline_ms"))
    l.udp_deadline_ms = get_u32(v["udp_deadline_ms"], join(path, "udp_deadline_ms"), 10, 60000);
  if (v.contains("buffer_bytes"))
    l.buffer_bytes = get_u32(v["buffer_bytes"], join(path, "buffer_bytes"), 4096, 64 * 1024 * 1024);
  if (v.contains("zero_copy")) l.zero_copy = get_bool(v["zero_copy"], join(path, "zero_copy"));
}

template <typename T, typename Fn>
std::optional<T> parse_with(const std::string& text, std::string& error, Fn&& fill) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {
    // parse_error, and out_of_range for a number too large for a double.
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

UdpChoice choose_udp(const Udp& u, const std::string& host, uint16_t port) {
  for (const auto& r : u.rules) {
    const bool port_ok = r.ports.empty() || std::any_of(r.ports.begin(), r.ports.end(), [&](const auto& range) {
                           return port >= range.first && port <= range.second;
                         });
    const bool host_ok = r.hosts.empty() || std::any_of(r.hosts.begin(), r.hosts.end(), [&](const std::string& h) {
                           if (h.size() > 2 && h.compare(0, 2, "*.") == 0)
                             return host.size() > h.size() - 1 &&
                                    host.compare(host.size() - (h.size() - 1), h.size() - 1, h, 1) == 0;
                           return host == h;
                         });
    if (port_ok && host_ok)
      return {r.carrier == "datagram", r.scheduler.empty() ? u.scheduler : r.scheduler};
  }
  return {u.carrier == "datagram", u.scheduler};
}

bool uses_datagram_carrier(const Udp& u) {
  if (u.carrier == "datagram") return true;
  return std::any_of(u.rules.begin(), u.rules.end(), [](const UdpRule& r) { return r.carrier == "datagram"; });
}

Udp default_udp() {
  Udp u;
  u.rules.push_back({{{53, 53}}, {}, "framed", ""});
  u.rules.push_back({{{443, 443}, {3478, 3478}, {5004, 5005}, {16384, 32767}}, {}, "datagram", "lowest-rtt"});
  return u;
}

void apply_realtime_preset(Udp& u) {
  u.carrier = "datagram";
  u.scheduler = "redundant";
}

namespace {
// "53", "443,3478", "16384-32767".
std::vector<std::pair<uint16_t, uint16_t>> parse_ports(const std::string& text, const std::string& at) {
  std::vector<std::pair<uint16_t, uint16_t>> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = text.find(',', pos);
    const std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    const size_t dash = item.find('-');
    try {
      size_t used = 0;
      const unsigned long lo = std::stoul(item.substr(0, dash), &used);
      const unsigned long hi = dash == std::string::npos ? lo : std::stoul(item.substr(dash + 1));
      if (lo > 65535 || hi > 65535 || lo > hi) throw std::out_of_range("range");
      out.emplace_back(static_cast<uint16_t>(lo), static_cast<uint16_t>(hi));
    } catch (const std::exception&) {
      field_error(at, "expected ports like \"53\", \"443,3478\" or \"16384-32767\", got \"" + text + "\"");
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

void check_carrier(const std::string& c, const std::string& at) {
  if (c != "framed" && c != "datagram") field_error(at, "expected framed or datagram, got \"" + c + "\"");
}
void check_scheduler(const std::string& c, const std::string& at) {
  if (c != "redundant" && c != "lowest-rtt" && c != "weighted")
    field_error(at, "expected redundant, lowest-rtt or weighted, got \"" + c + "\"");
}

// "pool": {"min": 2, "max": 16, "max_idle_ms": 60000}; true or {} for the
// defaults; false or null for none.
void read_pool(const json& v, Pool& p) {
  if (v.is_null() || (v.is_boolean() && !v.get<bool>())) {
    p.min = p.max = 0;
    return;
  }
  if (v.is_boolean()) return;
  reject_unknown(v, "pool", {"min", "max", "max_idle_ms"});
  if (v.contains("min")) p.min = get_u32(v["min"], "pool.min", 0, 64);
  if (v.contains("max")) p.max = get_u32(v["max"], "pool.max", 0, 64);
  if (v.contains("max_idle_ms")) p.max_idle_ms = get_u32(v["max_idle_ms"], "pool.max_idle_ms", 1000, 3600000);
  // One bound given alone moves the other default out of its way.
  if (!v.contains("max") && p.min > p.max) p.max = p.min;
  if (!v.contains("min") && p.min > p.max) p.min = p.max;
  if (p.min > p.max)
    field_error("pool.min", "must not exceed pool.max (" + std::to_string(p.max) + "), got " + std::to_string(p.min));
}

void read_udp(const json& v, Udp& u) {
  reject_unknown(v, "udp", {"carrier", "scheduler", "preset", "rules", "probe_interval_ms"});
  if (v.contains("carrier")) check_carrier(u.carrier = get_string(v["carrier"], "udp.carrier"), "udp.carrier");
  if (v.contains("scheduler"))
    check_scheduler(u.scheduler = get_string(v["scheduler"], "udp.scheduler"), "udp.scheduler");
  if (v.contains("probe_interval_ms"))
    u.probe_interval_ms = get_u32(v["probe_interval_ms"], "udp.probe_interval_ms", 50, 10000);
  if (v.contains("rules")) {
    const auto& rs = v["rules"];
    if (!rs.is_array()) field_error("udp.rules", "expected an array of rules");
    u.rules.clear();
    for (size_t i = 0; i < rs.size(); ++i) {
      const std::string at = "udp.rules[" + std::to_string(i) + "]";
      reject_unknown(rs[i], at, {"ports", "hosts", "carrier", "scheduler"});
      UdpRule r;
      if (rs[i].contains("ports")) r.ports = parse_ports(get_string(rs[i]["ports"], at + ".ports"), at + ".ports");
      if (rs[i].contains("hosts")) {
        if (!rs[i]["hosts"].is_array()) field_error(at + ".hosts", "expected an array of names");
        for (size_t h = 0; h < rs[i]["hosts"].size(); ++h)
          r.hosts.push_back(get_string(rs[i]["hosts"][h], at + ".hosts[" + std::to_string(h) + "]"));
      }
      if (!rs[i].contains("carrier")) field_error(at + ".carrier", "required: framed or datagram");
      check_carrier(r.carrier = get_string(rs[i]["carrier"], at + ".carrier"), at + ".carrier");
      if (rs[i].contains("scheduler"))
        check_scheduler(r.scheduler = get_string(rs[i]["scheduler"], at + ".scheduler"), at + ".scheduler");
      u.rules.push_back(std::move(r));
    }
  }
  if (v.contains("preset")) {
    const auto preset = get_string(v["preset"], "udp.preset");
    if (preset != "realtime") field_error("udp.preset", "expected \"realtime\", got \"" + preset + "\"");
    apply_realtime_preset(u);
  }
}
}  // namespace

ClientConfig default_client_config() {
  ClientConfig c;
  c.socks_listen = parse_host_port("127.0.0.1:1080");
  c.http_listen = parse_host_port("127.0.0.1:8118");
  c.control = Control{*parse_host_port("127.0.0.1:7310"), default_state_path("api-token")};
  c.state_file = default_state_path("state.json");
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
    reject_unknown(root, "", {"socks", "http", "mixed", "auth", "concentrator", "mptcp", "limits", "log_level", "control",
                              "paths", "mode", "manage_endpoints", "state_file", "udp", "pool", "optimistic_reply",
                              "tcp_fastopen"});
    if (root.contains("pool")) read_pool(root["pool"], c.pool);
    if (root.contains("optimistic_reply")) c.optimistic_reply = get_bool(root["optimistic_reply"], "optimistic_reply");
    if (root.contains("tcp_fastopen")) c.tcp_fastopen = get_bool(root["tcp_fastopen"], "tcp_fastopen");
    if (root.contains("control")) {
      const auto& k = root["control"];
      if (k.is_null() || (k.is_boolean() && !k.get<bool>())) {
        c.control.reset();
      } else {
        reject_unknown(k, "control", {"listen", "token_file"});
        if (k.contains("listen")) c.control->listen = get_endpoint(k["listen"], "control.listen");
        if (k.contains("token_file")) c.control->token_file = get_string(k["token_file"], "control.token_file");
      }
    }
    if (root.contains("paths")) {
      const auto& ps = root["paths"];
      if (!ps.is_object()) field_error("paths", "expected an object keyed by interface name");
      for (auto it = ps.begin(); it != ps.end(); ++it) {
        const std::string at = "paths." + it.key();
        reject_unknown(it.value(), at, {"kind", "policy"});
        PathSettings ps_;
        if (it.value().contains("kind")) {
          ps_.kind = get_string(it.value()["kind"], at + ".kind");
          if (ps_.kind != "wifi" && ps_.kind != "cellular" && ps_.kind != "ethernet" && ps_.kind != "other")
            field_error(at + ".kind", "expected one of wifi, cellular, ethernet, other, got \"" + ps_.kind + "\"");
        }
        if (it.value().contains("policy")) {
          ps_.policy = get_string(it.value()["policy"], at + ".policy");
          if (ps_.policy != "on" && ps_.policy != "backup" && ps_.policy != "off")
            field_error(at + ".policy", "expected one of on, backup, off, got \"" + ps_.policy + "\"");
        }
        c.paths[it.key()] = ps_;
      }
    }
    if (root.contains("mode")) {
      c.mode = get_string(root["mode"], "mode");
      if (c.mode != "aggregate" && c.mode != "failover")
        field_error("mode", "expected aggregate or failover, got \"" + c.mode + "\"");
    }
    if (root.contains("manage_endpoints")) c.manage_endpoints = get_bool(root["manage_endpoints"], "manage_endpoints");
    if (root.contains("state_file")) c.state_file = get_string(root["state_file"], "state_file");
    if (root.contains("udp")) read_udp(root["udp"], c.udp);
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
      reject_unknown(k, "concentrator",
                     {"address", "user", "token", "fingerprint", "ca_file", "server_name", "insecure_plaintext"});
      if (!k.contains("address")) field_error("concentrator.address", "required (\"host:port\")");
      if (!k.contains("user"))
        field_error("concentrator.user", "required (the user name from the access key; braid add-concentrator KEY)");
      if (!k.contains("token")) field_error("concentrator.token", "required (the token the concentrator accepts)");
      Concentrator conc;
      conc.address = get_endpoint(k["address"], "concentrator.address");
      conc.user = get_string(k["user"], "concentrator.user");
      conc.token = get_string(k["token"], "concentrator.token");
      if (k.contains("fingerprint")) conc.fingerprint = get_string(k["fingerprint"], "concentrator.fingerprint");
      if (k.contains("ca_file")) conc.ca_file = get_string(k["ca_file"], "concentrator.ca_file");
      if (k.contains("server_name")) conc.server_name = get_string(k["server_name"], "concentrator.server_name");
      if (k.contains("insecure_plaintext"))
        conc.insecure_plaintext = get_bool(k["insecure_plaintext"], "concentrator.insecure_plaintext");
      c.concentrator = conc;
    }
    if (root.contains("mptcp")) c.mptcp = get_bool(root["mptcp"], "mptcp");
    if (root.contains("limits")) read_limits(root["limits"], "limits", c.limits);
    if (root.contains("log_level")) c.log_level = get_log_level(root["log_level"], "log_level");
    return c;
  });
}

namespace {
// The concentrator's own limits, taken out of a copy of "limits" before the
// shared keys are read (the client's config does not accept them).
void read_concentrator_limits(json& v, Limits& l) {
  if (!v.is_object()) return;  // read_limits names the error
  if (v.contains("max_connections_per_user"))
    l.max_connections_per_user = get_u32(v["max_connections_per_user"], "limits.max_connections_per_user", 1, 1000000);
  if (v.contains("max_dns_lookups"))
    l.max_dns_lookups = get_u32(v["max_dns_lookups"], "limits.max_dns_lookups", 1, 65536);
  if (v.contains("pool_idle_ms")) l.pool_idle_ms = get_u32(v["pool_idle_ms"], "limits.pool_idle_ms", 1000, 86400000);
  v.erase("max_connections_per_user");
  v.erase("max_dns_lookups");
  v.erase("pool_idle_ms");
}

// "destinations": {"allow": ["10.31.9.0/24"], "deny": ["any port 25"]}.
void read_destinations(const json& v, Destinations& d) {
  reject_unknown(v, "destinations", {"allow", "deny"});
  for (const char* list : {"allow", "deny"}) {
    if (!v.contains(list)) continue;
    const std::string at = std::string("destinations.") + list;
    const auto& a = v[list];
    if (!a.is_array()) field_error(at, "expected an array of \"ADDR[/LEN] [port N[-M]]\" strings, got " + a.dump());
    auto& out = std::string(list) == "allow" ? d.allow : d.deny;
    for (size_t i = 0; i < a.size(); ++i) {
      const std::string item_at = at + "[" + std::to_string(i) + "]";
      std::string why;
      auto rule = net::AddressRule::parse(get_string(a[i], item_at), &why);
      if (!rule)
        field_error(item_at, why + " (for example \"10.31.9.0/24\", \"2001:db8::/32\" or \"any port 25\")");
      out.push_back(*rule);
    }
  }
}
}  // namespace

std::optional<ConcentratorConfig> parse_concentrator_config(const std::string& text, std::string& error) {
  return parse_with<ConcentratorConfig>(text, error, [](const json& root) {
    ConcentratorConfig c = default_concentrator_config();
    if (root.is_object() && root.contains("tokens"))
      field_error("tokens", "replaced by named users: put \"users_file\" here and add users with "
                            "`braid-concentrator user add NAME` (or start afresh with `braid-concentrator init`)");
    reject_unknown(root, "", {"listen", "users_file", "public_address", "tls", "insecure_plaintext", "mptcp",
                              "mptcp_subflows", "limits", "log_level", "destinations", "tcp_fastopen"});
    if (root.contains("tcp_fastopen")) c.tcp_fastopen = get_bool(root["tcp_fastopen"], "tcp_fastopen");
    if (root.contains("public_address")) {
      c.public_address = get_string(root["public_address"], "public_address");
      if (!parse_host_port(c.public_address))
        field_error("public_address", "expected HOST:PORT (what clients connect to), got \"" + c.public_address + "\"");
    }
    if (root.contains("listen")) c.listen = get_endpoint(root["listen"], "listen");
    if (root.contains("users_file")) c.users_file = get_string(root["users_file"], "users_file");
    if (root.contains("tls")) {
      const auto& t = root["tls"];
      reject_unknown(t, "tls", {"cert", "key"});
      if (t.contains("cert")) c.tls_cert = get_string(t["cert"], "tls.cert");
      if (t.contains("key")) c.tls_key = get_string(t["key"], "tls.key");
    }
    if (root.contains("insecure_plaintext"))
      c.insecure_plaintext = get_bool(root["insecure_plaintext"], "insecure_plaintext");
    if (root.contains("mptcp")) c.mptcp = get_bool(root["mptcp"], "mptcp");
    if (root.contains("mptcp_subflows")) c.mptcp_subflows = get_u32(root["mptcp_subflows"], "mptcp_subflows", 0, 8);
    if (root.contains("limits")) {
      json limits = root["limits"];
      read_concentrator_limits(limits, c.limits);
      read_limits(limits, "limits", c.limits);
    }
    if (root.contains("destinations")) read_destinations(root["destinations"], c.destinations);
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
  if (c.concentrator) {
    if (c.concentrator->user.empty() || c.concentrator->user.size() > 255) {
      error = "concentrator.user: the user name must be 1 to 255 bytes long";
      return false;
    }
    if (!check_token(c.concentrator->token, "concentrator.token", error)) return false;
    const std::string& fp = c.concentrator->fingerprint;
    if (!fp.empty() && !net::parse_fingerprint(fp)) {
      error = "concentrator.fingerprint: expected \"sha256:\" and 64 hex digits, got \"" + fp + "\"";
      return false;
    }
  }
  // A proxy reachable from the network without a password is an open proxy
  // for everyone on that network.
  const std::pair<const std::optional<Destination>*, const char*> listeners[] = {
      {&c.socks_listen, "socks"}, {&c.http_listen, "http"}, {&c.mixed_listen, "mixed"}};
  for (const auto& [l, name] : listeners) {
    if (!*l || c.auth) continue;
    sockaddr_storage ss{};
    const bool loopback = (*l)->to_sockaddr(ss) ? is_loopback(ss) : (*l)->domain == "localhost";
    if (loopback) continue;
    error = std::string(name) + ": listening on " + (*l)->to_string() +
            " (not loopback) would let other machines use this proxy without a password; set auth "
            "(--user and --password, or \"auth\" in the config) or listen on 127.0.0.1";
    return false;
  }
  return true;
}

bool validate(const ConcentratorConfig& c, std::string& error) {
  if (c.users_file.empty()) {
    error = "users_file: required, or the concentrator would be an open relay (braid-concentrator init makes one)";
    return false;
  }
  if (!c.insecure_plaintext && (c.tls_cert.empty() || c.tls_key.empty())) {
    error = std::string(c.tls_cert.empty() ? "tls.cert" : "tls.key") +
            ": required (braid-concentrator init makes a key and certificate), or set insecure_plaintext for tests";
    return false;
  }
  return true;
}

std::string default_state_path(const std::string& file) {
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg) return std::string(xdg) + "/braid/" + file;
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.local/state/braid/" + file;
  return "/var/lib/braid/" + file;
}

namespace {
std::string endpoint_text(const std::optional<Destination>& d) { return d ? d->to_string() : std::string(); }
}  // namespace

std::string to_json(const ClientConfig& c) {
  json j;
  j["socks"] = c.socks_listen ? json(c.socks_listen->to_string()) : json(nullptr);
  j["http"] = c.http_listen ? json(c.http_listen->to_string()) : json(nullptr);
  j["mixed"] = c.mixed_listen ? json(endpoint_text(c.mixed_listen)) : json(nullptr);
  j["auth"] = c.auth ? json{{"username", c.auth->username}, {"password", c.auth->password}} : json(nullptr);
  j["concentrator"] = json(nullptr);
  if (c.concentrator) {
    json k = {{"address", c.concentrator->address.to_string()},
              {"user", c.concentrator->user},
              {"token", c.concentrator->token}};
    if (!c.concentrator->fingerprint.empty()) k["fingerprint"] = c.concentrator->fingerprint;
    if (!c.concentrator->ca_file.empty()) k["ca_file"] = c.concentrator->ca_file;
    if (!c.concentrator->server_name.empty()) k["server_name"] = c.concentrator->server_name;
    if (c.concentrator->insecure_plaintext) k["insecure_plaintext"] = true;
    j["concentrator"] = k;
  }
  j["mptcp"] = c.mptcp;
  j["log_level"] = c.log_level;
  j["limits"] = {{"max_connections", c.limits.max_connections},
                 {"handshake_timeout_ms", c.limits.handshake_timeout_ms},
                 {"connect_timeout_ms", c.limits.connect_timeout_ms},
                 {"idle_timeout_ms", c.limits.idle_timeout_ms},
                 {"buffer_bytes", c.limits.buffer_bytes},
                 {"udp_deadline_ms", c.limits.udp_deadline_ms},
                 {"zero_copy", c.limits.zero_copy}};
  j["control"] = c.control ? json{{"listen", c.control->listen.to_string()}, {"token_file", c.control->token_file}}
                           : json(nullptr);
  json paths = json::object();
  for (const auto& [name, p] : c.paths) {
    json e = json::object();
    if (!p.kind.empty()) e["kind"] = p.kind;
    if (!p.policy.empty()) e["policy"] = p.policy;
    paths[name] = e;
  }
  j["paths"] = paths;
  j["mode"] = c.mode;
  j["manage_endpoints"] = c.manage_endpoints;
  j["state_file"] = c.state_file;
  json rules = json::array();
  for (const auto& r : c.udp.rules) {
    std::string ports;
    for (const auto& [lo, hi] : r.ports)
      ports += (ports.empty() ? "" : ",") + std::to_string(lo) + (lo == hi ? "" : "-" + std::to_string(hi));
    json jr = {{"carrier", r.carrier}};
    if (!ports.empty()) jr["ports"] = ports;
    if (!r.hosts.empty()) jr["hosts"] = r.hosts;
    if (!r.scheduler.empty()) jr["scheduler"] = r.scheduler;
    rules.push_back(jr);
  }
  j["udp"] = {{"carrier", c.udp.carrier}, {"scheduler", c.udp.scheduler}, {"rules", rules},
              {"probe_interval_ms", c.udp.probe_interval_ms}};
  j["pool"] = c.pool.enabled() ? json{{"min", c.pool.min}, {"max", c.pool.max}, {"max_idle_ms", c.pool.max_idle_ms}}
                               : json(false);
  j["optimistic_reply"] = c.optimistic_reply;
  j["tcp_fastopen"] = c.tcp_fastopen;
  return j.dump(2);
}

bool write_file_atomic(const std::string& path, const std::string& content, unsigned mode, std::string& error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path p(path);
  if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    error = "cannot write " + tmp + ": " + std::strerror(errno);
    return false;
  }
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = "cannot write " + tmp + ": " + std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    off += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    error = "cannot replace " + path + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
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
