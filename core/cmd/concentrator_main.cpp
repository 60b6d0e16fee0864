// braid-concentrator: the server Braid clients bond towards.
//   braid-concentrator [-c CONFIG]       run it
//   braid-concentrator init              key, certificate, users, config, first access key
//   braid-concentrator user add|revoke|list
#include <cstdio>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <uv.h>

#include "cmd/concentrator_admin.hpp"
#include "cmd/run_loop.hpp"
#include "concentrator/server.hpp"
#include "config/config.hpp"
#include "net/log.hpp"

#ifndef BRAID_VERSION
#define BRAID_VERSION "0.0.0"
#endif

using namespace braid;

int main(int argc, char** argv) {
  CLI::App app{"braid-concentrator: accepts Braid clients over Multipath TCP and relays their connections"};
  std::string config_path, listen, log_level, users_file;
  std::vector<std::string> allow, deny;
  bool no_mptcp = false, insecure_plaintext = false;
  app.add_option("-c,--config", config_path, "JSON config file (default: /etc/braid/concentrator.json)");
  app.add_option("--listen", listen, "listen address HOST:PORT (default 0.0.0.0:7300)");
  app.add_option("--users", users_file, "users file (default: the config's users_file)");
  app.add_flag("--insecure-plaintext", insecure_plaintext,
               "no TLS: users, tokens and traffic in clear (tests only; clients must say so too)");
  app.add_flag("--no-mptcp", no_mptcp, "listen with plain TCP");
  app.add_option("--allow", allow,
                 "let clients reach \"ADDR[/LEN] [port N[-M]]\" despite the built-in refusals (repeatable; adds to "
                 "destinations.allow)");
  app.add_option("--deny", deny, "refuse \"ADDR[/LEN] [port N[-M]]\" (repeatable; adds to destinations.deny)");
  app.add_option("--log-level", log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.set_version_flag("--version", std::string("braid-concentrator ") + BRAID_VERSION);

  cmd::InitOptions init;
  auto* init_cmd = app.add_subcommand(
      "init", "Make a key, a self-signed certificate, a users file and a config in --dir; print an access key");
  init_cmd->add_option("--dir", init.dir, "where the files go (default /etc/braid)");
  init_cmd->add_option("--host", init.host, "the name or address clients connect to (default: this host's name)");
  init_cmd->add_option("--port", init.port, "the port (default 7300)");
  init_cmd->add_option("--user", init.user, "the first user (default braid)");
  init_cmd->add_flag("--force", init.force, "replace existing files (every access key stops working)");
  std::string user_name, user_host, admin_config = "/etc/braid/concentrator.json";
  auto* user_cmd = app.add_subcommand("user", "Add, revoke or list users (a running concentrator reloads on SIGHUP)");
  user_cmd->require_subcommand(1);
  auto* add_cmd = user_cmd->add_subcommand("add", "Add a user (or give it a new token); prints its access key");
  add_cmd->add_option("name", user_name, "user name")->required();
  add_cmd->add_option("--host", user_host, "HOST[:PORT] for the access key (default: the config's public_address)");
  auto* revoke_cmd = user_cmd->add_subcommand("revoke", "Remove a user: new connections with its key are refused");
  revoke_cmd->add_option("name", user_name, "user name")->required();
  auto* list_cmd = user_cmd->add_subcommand("list", "List user names");
  for (auto* c : {add_cmd, revoke_cmd, list_cmd})
    c->add_option("-c,--config", admin_config, "the concentrator's config (default /etc/braid/concentrator.json)");
  CLI11_PARSE(app, argc, argv);
  if (init_cmd->parsed()) return cmd::concentrator_init(init);
  if (add_cmd->parsed()) return cmd::concentrator_user_add(admin_config, user_name, user_host);
  if (revoke_cmd->parsed()) return cmd::concentrator_user_revoke(admin_config, user_name);
  if (list_cmd->parsed()) return cmd::concentrator_user_list(admin_config);

  config::ConcentratorConfig cfg = config::default_concentrator_config();
  std::string error, text;
  if (config_path.empty() && std::filesystem::exists("/etc/braid/concentrator.json"))
    config_path = "/etc/braid/concentrator.json";
  if (!config_path.empty()) {
    if (!config::read_file(config_path, text, error)) {
      std::fprintf(stderr, "braid-concentrator: %s\n", error.c_str());
      return 2;
    }
    // --users and --insecure-plaintext stand in for the file's settings, so
    // a file without them still validates.
    if (!users_file.empty() || insecure_plaintext) {
      try {
        auto j = nlohmann::json::parse(text);
        if (j.is_object() && !users_file.empty()) j["users_file"] = users_file;
        if (j.is_object() && insecure_plaintext) j["insecure_plaintext"] = true;
        text = j.dump();
      } catch (const nlohmann::json::exception&) {
        // Not JSON: the parser below says so.
      }
    }
    auto parsed = config::parse_concentrator_config(text, error);
    if (!parsed) {
      std::fprintf(stderr, "braid-concentrator: config %s: %s\n", config_path.c_str(), error.c_str());
      return 2;
    }
    cfg = *parsed;
    cmd::resolve_relative_paths(cfg, config_path);
  }
  if (!listen.empty()) {
    std::string why;
    auto d = parse_host_port(listen, &why);
    if (!d) {
      std::fprintf(stderr, "braid-concentrator: --listen %s: %s\n", listen.c_str(), why.c_str());
      return 2;
    }
    cfg.listen = *d;
  }
  if (!users_file.empty()) cfg.users_file = users_file;
  if (insecure_plaintext) cfg.insecure_plaintext = true;
  for (auto [texts, list, flag] : {std::tuple{&allow, &cfg.destinations.allow, "--allow"},
                                   std::tuple{&deny, &cfg.destinations.deny, "--deny"}}) {
    for (const auto& text : *texts) {
      std::string why;
      auto rule = net::AddressRule::parse(text, &why);
      if (!rule) {
        std::fprintf(stderr, "braid-concentrator: %s %s: %s\n", flag, text.c_str(), why.c_str());
        return 2;
      }
      list->push_back(*rule);
    }
  }
  if (no_mptcp) cfg.mptcp = false;
  if (!log_level.empty()) cfg.log_level = log_level;
  if (!config::validate(cfg, error)) {
    std::fprintf(stderr, "braid-concentrator: %s\n", error.c_str());
    return 2;
  }
  log::set_level(log::parse_level(cfg.log_level));

  uv_loop_t loop;
  uv_loop_init(&loop);
  concentrator::Server server(&loop, cfg);
  if (!server.start(error)) {
    std::fprintf(stderr, "braid-concentrator: %s\n", error.c_str());
    server.stop([] {});
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return 1;
  }
  log::write(log::Level::info, "braid-concentrator %s listening on %s (%s, %s), %zu user(s), at most %u connections",
             BRAID_VERSION, server.bound().to_string().c_str(), server.listening_mptcp() ? "MPTCP" : "TCP",
             server.tls() ? "TLS 1.3" : "NO TLS", server.user_count(), cfg.limits.max_connections);
  if (server.tls())
    log::write(log::Level::info, "certificate %s, public key fingerprint %s", cfg.tls_cert.c_str(),
               net::fingerprint_to_string(server.tls()->own_fingerprint()).c_str());
  else
    log::write(log::Level::warn,
               "INSECURE: insecure_plaintext is set: user names, tokens, destinations and all relayed traffic cross "
               "the network in clear and anyone on the path can use or read them. For tests only.");
  return cmd::run_until_signal(
      &loop, [&](std::function<void()> done) { server.stop(std::move(done)); },
      [&] {
        std::string why;
        if (server.reload_users(why))
          log::write(log::Level::info, "SIGHUP: reloaded %s: %zu user(s); new connections use them",
                     cfg.users_file.c_str(), server.user_count());
        else
          log::write(log::Level::error, "SIGHUP: cannot reload users (%s); keeping the %zu user(s) loaded before",
                     why.c_str(), server.user_count());
      });
}
