// braid: the client daemon and its command line.
//   braid up                     run the local SOCKS5/HTTP proxy
//   braid add-concentrator KEY   import an access key into the config
//   braid version                print the version
#include <cstdio>
#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>
#include <uv.h>

#include "braid/platform.hpp"
#include "client/engine.hpp"
#include "cmd/cli_verbs.hpp"
#include "cmd/run_loop.hpp"
#include "config/config.hpp"
#include "net/log.hpp"
#include "paths/path.hpp"
#include "tunnel/access_key.hpp"

#include <nlohmann/json.hpp>

#ifndef BRAID_VERSION
#define BRAID_VERSION "0.0.0"
#endif

using namespace braid;

namespace {

struct UpOptions {
  std::string config_path;
  std::string socks, http, mixed, concentrator, token, user, password, log_level, control, access_key;
  bool no_mptcp = false;
  bool insecure_plaintext = false;
};

// Applies a command-line listener override: "off" disables it.
bool override_listener(const std::string& value, const char* name, std::optional<Destination>& slot) {
  if (value.empty()) return true;
  if (value == "off") {
    slot.reset();
    return true;
  }
  std::string why;
  auto d = parse_host_port(value, &why);
  if (!d) {
    std::fprintf(stderr, "braid: --%s %s: %s\n", name, value.c_str(), why.c_str());
    return false;
  }
  slot = *d;
  return true;
}

config::Concentrator concentrator_from_key(const access::AccessKey& k) {
  config::Concentrator c;
  c.address = k.address;
  c.user = k.user;
  c.token = k.token;
  c.fingerprint = net::fingerprint_to_string(k.fingerprint);
  return c;
}

// Writes the key's concentrator into the config, keeping every other field
// (and the file's other concentrator settings are replaced, not merged:
// a new key is a new identity).
int add_concentrator(const std::string& key_text, const std::string& config_arg) {
  std::string error;
  auto k = access::parse(key_text, error);
  if (!k) {
    std::fprintf(stderr, "braid: not a valid access key: %s\n", error.c_str());
    return 2;
  }
  const std::string path = config_arg.empty() ? config::default_config_path("braid.json") : config_arg;
  nlohmann::json root = nlohmann::json::object();
  std::string text;
  if (std::filesystem::exists(path)) {
    if (!config::read_file(path, text, error)) {
      std::fprintf(stderr, "braid: %s\n", error.c_str());
      return 1;
    }
    try {
      root = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      std::fprintf(stderr, "braid: config %s is not valid JSON (%s); fix or remove it first\n", path.c_str(), e.what());
      return 1;
    }
  }
  root["concentrator"] = {{"address", k->address.to_string()},
                          {"user", k->user},
                          {"token", k->token},
                          {"fingerprint", net::fingerprint_to_string(k->fingerprint)}};
  const std::string out = root.dump(2) + "\n";
  if (!config::parse_client_config(out, error)) {
    std::fprintf(stderr, "braid: config %s would not be valid: %s\n", path.c_str(), error.c_str());
    return 1;
  }
  if (!config::write_file_atomic(path, out, 0600, error)) {
    std::fprintf(stderr, "braid: %s\n", error.c_str());
    return 1;
  }
  std::printf("braid: concentrator %s (user %s, pinned %s) saved in %s; restart braid up to use it\n",
              k->address.to_string().c_str(), k->user.c_str(), net::fingerprint_to_string(k->fingerprint).c_str(),
              path.c_str());
  return 0;
}

int run_up(const UpOptions& o) {
  config::ClientConfig cfg = config::default_client_config();
  std::string path = o.config_path.empty() ? config::default_config_path("braid.json") : o.config_path;
  std::string text, error;
  if (!o.config_path.empty() || std::filesystem::exists(path)) {
    if (!config::read_file(path, text, error)) {
      std::fprintf(stderr, "braid: %s\n", error.c_str());
      return 2;
    }
    auto parsed = config::parse_client_config(text, error);
    if (!parsed) {
      std::fprintf(stderr, "braid: config %s: %s\n", path.c_str(), error.c_str());
      return 2;
    }
    cfg = *parsed;
  }
  if (!override_listener(o.socks, "socks", cfg.socks_listen) || !override_listener(o.http, "http", cfg.http_listen) ||
      !override_listener(o.mixed, "mixed", cfg.mixed_listen))
    return 2;
  if (!o.access_key.empty()) {
    std::string why;
    auto k = access::parse(o.access_key, why);
    if (!k) {
      std::fprintf(stderr, "braid: --access-key: %s\n", why.c_str());
      return 2;
    }
    cfg.concentrator = concentrator_from_key(*k);
  }
  if (!o.concentrator.empty()) {
    std::string why;
    auto d = parse_host_port(o.concentrator, &why);
    if (!d) {
      std::fprintf(stderr, "braid: --concentrator %s: %s\n", o.concentrator.c_str(), why.c_str());
      return 2;
    }
    if (!cfg.concentrator) cfg.concentrator = config::Concentrator{};
    cfg.concentrator->address = *d;
  }
  if (!o.token.empty()) {
    if (!cfg.concentrator) {
      std::fprintf(stderr, "braid: --token needs --concentrator (or concentrator.address in the config)\n");
      return 2;
    }
    cfg.concentrator->token = o.token;
  }
  if (o.insecure_plaintext) {
    if (!cfg.concentrator) {
      std::fprintf(stderr, "braid: --insecure-plaintext needs a concentrator\n");
      return 2;
    }
    cfg.concentrator->insecure_plaintext = true;
  }
  if (!o.user.empty() || !o.password.empty()) cfg.auth = config::Credentials{o.user, o.password};
  if (o.no_mptcp) cfg.mptcp = false;
  if (o.control == "off") {
    cfg.control.reset();
  } else if (!o.control.empty()) {
    std::string why;
    auto d = parse_host_port(o.control, &why);
    if (!d) {
      std::fprintf(stderr, "braid: --control %s: %s\n", o.control.c_str(), why.c_str());
      return 2;
    }
    if (!cfg.control) cfg.control = config::default_client_config().control;
    cfg.control->listen = *d;
  }
  if (!o.log_level.empty()) cfg.log_level = o.log_level;
  if (!config::validate(cfg, error)) {
    std::fprintf(stderr, "braid: %s\n", error.c_str());
    return 2;
  }
  log::set_level(log::parse_level(cfg.log_level));

  uv_loop_t loop;
  uv_loop_init(&loop);
  client::Engine engine(&loop, cfg, path);
  if (!engine.start(error)) {
    std::fprintf(stderr, "braid: %s\n", error.c_str());
    engine.stop([] {});
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return 1;
  }
  // Startup lines are printed at any log level: scripts wait for "listening".
  log::write(log::Level::info, "braid %s up", BRAID_VERSION);
  for (const auto& l : engine.listening())
    log::write(log::Level::info, "listening %s on %s", client::frontend_name(l.frontend), l.address.to_string().c_str());
  if (cfg.concentrator && cfg.concentrator->insecure_plaintext)
    log::write(log::Level::warn,
               "INSECURE: insecure_plaintext is set: the user name, token, destinations and all traffic to the "
               "concentrator %s cross the network in clear. For tests only.",
               cfg.concentrator->address.to_string().c_str());
  if (cfg.concentrator)
    BRAID_LOG(info, "upstream: concentrator %s as user %s, %s, one %s connection per proxied connection, %s%s",
              cfg.concentrator->address.to_string().c_str(), cfg.concentrator->user.c_str(),
              cfg.concentrator->insecure_plaintext        ? "NO TLS"
              : !cfg.concentrator->fingerprint.empty() ? ("TLS 1.3, pinned " + cfg.concentrator->fingerprint).c_str()
                                                       : "TLS 1.3, certificate checked against CAs",
              cfg.mptcp ? "MPTCP" : "TCP",
              cfg.pool.enabled() ? ("pre-warmed (pool " + std::to_string(cfg.pool.min) + "-" +
                                    std::to_string(cfg.pool.max) + ")").c_str()
                                 : "dialled on demand (pool off)",
              cfg.optimistic_reply ? ", optimistic SOCKS5/CONNECT replies" : "");
  else
    BRAID_LOG(info, "upstream: direct to destinations over %s (no concentrator configured)",
              cfg.mptcp ? "MPTCP" : "TCP");
  if (engine.control_address().port)
    BRAID_LOG(info, "control API on http://%s (token in %s)", engine.control_address().to_string().c_str(),
              cfg.control->token_file.c_str());
  if (auto* pm = engine.paths()) {
    for (const auto& p : pm->paths())
      BRAID_LOG(info, "path %s: %s, %s, policy %s", p.name.c_str(), paths::to_string(p.kind),
                paths::to_string(p.state()), paths::to_string(p.policy));
    if (!pm->control_available()) BRAID_LOG(warn, "%s", pm->control_reason().c_str());
  }
  if (cfg.mptcp && engine.mptcp_error() != 0)
    BRAID_LOG(warn, "%s", platform::describe_mptcp_error(engine.mptcp_error()).c_str());
  for (const auto& l : engine.listening()) {
    const auto a = l.address.to_string();
    if (l.frontend != client::Frontend::http)
      BRAID_LOG(info, "try: curl --socks5-hostname %s https://example.com/", a.c_str());
    if (l.frontend != client::Frontend::socks5)
      BRAID_LOG(info, "try: curl --proxy http://%s https://example.com/", a.c_str());
  }
  return cmd::run_until_signal(&loop, [&](std::function<void()> done) { engine.stop(std::move(done)); });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"braid: bond every network path into each connection (local SOCKS5/HTTP proxy over Multipath TCP)"};
  app.require_subcommand(1);
  UpOptions up;
  auto* up_cmd = app.add_subcommand("up", "Run the local proxy in the foreground");
  up_cmd->add_option("-c,--config", up.config_path, "JSON config file (default: $XDG_CONFIG_HOME/braid/braid.json)");
  up_cmd->add_option("--socks", up.socks, "SOCKS5 listen address HOST:PORT, or 'off' (default 127.0.0.1:1080)");
  up_cmd->add_option("--http", up.http, "HTTP proxy listen address HOST:PORT, or 'off' (default 127.0.0.1:8118)");
  up_cmd->add_option("--mixed", up.mixed, "one port serving SOCKS5 and HTTP, HOST:PORT");
  up_cmd->add_option("--concentrator", up.concentrator, "concentrator HOST:PORT (default: connect directly)");
  up_cmd->add_option("--token", up.token, "token the concentrator accepts (overrides the config's)");
  up_cmd->add_option("--access-key", up.access_key, "braid://USER:TOKEN@HOST:PORT?fp=sha256:HEX (overrides the config's concentrator)");
  up_cmd->add_flag("--insecure-plaintext", up.insecure_plaintext,
                   "talk to the concentrator without TLS (tests only; it must say so too)");
  up_cmd->add_option("--user", up.user, "require this username from local apps (SOCKS5 RFC 1929 / HTTP Basic)");
  up_cmd->add_option("--password", up.password, "the password that goes with --user");
  up_cmd->add_flag("--no-mptcp", up.no_mptcp, "use plain TCP upstream");
  up_cmd->add_option("--control", up.control, "control API address HOST:PORT, or 'off' (default 127.0.0.1:7310)");
  up_cmd->add_option("--log-level", up.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_subcommand("version", "Print the version")->callback([] { std::printf("braid %s\n", BRAID_VERSION); });
  std::string key_text, key_config;
  auto* add_cmd = app.add_subcommand("add-concentrator", "Import an access key (from braid-concentrator init / user add)");
  add_cmd->add_option("key", key_text, "braid://USER:TOKEN@HOST:PORT?fp=sha256:HEX")->required();
  add_cmd->add_option("-c,--config", key_config, "config file to update (default: $XDG_CONFIG_HOME/braid/braid.json)");

  // Verbs that talk to a running daemon.
  cmd::CliTarget target;
  auto add_target = [&](CLI::App* c) {
    c->add_option("-c,--config", target.config_path, "config file naming the control API (default: as braid up)");
    c->add_option("--api", target.api, "control API address HOST:PORT (default: control.listen)");
    c->add_option("--token-file", target.token_file, "file holding the API token (default: control.token_file)");
    c->add_flag("--json", target.json, "print the API's JSON");
    return c;
  };
  auto* status_cmd = add_target(app.add_subcommand("status", "Show the daemon, its upstream and per-path traffic"));
  auto* paths_cmd = add_target(app.add_subcommand("paths", "List paths with state, policy, rates and totals"));
  std::string path_name, path_policy, mode_name, conn_id;
  auto* path_cmd = add_target(app.add_subcommand("path", "Switch a path on, to backup or off"));
  path_cmd->add_option("name", path_name, "interface name, e.g. wlan0")->required();
  path_cmd->add_option("policy", path_policy, "on, backup or off")->required()->check(CLI::IsMember({"on", "backup", "off"}));
  auto* mode_cmd = add_target(app.add_subcommand("mode", "Show or set the mode: aggregate or failover"));
  mode_cmd->add_option("mode", mode_name, "aggregate or failover")->check(CLI::IsMember({"aggregate", "failover"}));
  auto* conns_cmd = add_target(app.add_subcommand("connections", "List proxied connections with bytes per path"));
  auto* kill_cmd = add_target(app.add_subcommand("kill", "Close one proxied connection"));
  kill_cmd->add_option("id", conn_id, "connection id from `braid connections`")->required();
  unsigned top_seconds = 0;
  auto* top_cmd = add_target(app.add_subcommand("top", "Live per-path rates, once a second"));
  top_cmd->add_option("--seconds", top_seconds, "stop after this many seconds (default: until Ctrl-C)");

  CLI11_PARSE(app, argc, argv);
  if (up_cmd->parsed()) return run_up(up);
  if (add_cmd->parsed()) return add_concentrator(key_text, key_config);
  if (status_cmd->parsed()) return cmd::cli_status(target);
  if (paths_cmd->parsed()) return cmd::cli_paths(target);
  if (path_cmd->parsed()) return cmd::cli_path(target, path_name, path_policy);
  if (mode_cmd->parsed()) return cmd::cli_mode(target, mode_name);
  if (conns_cmd->parsed()) return cmd::cli_connections(target);
  if (kill_cmd->parsed()) return cmd::cli_kill(target, conn_id);
  if (top_cmd->parsed()) return cmd::cli_top(target, top_seconds);
  return 0;
}
