// braid-concentrator: the server Braid clients bond towards.
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <uv.h>

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
  std::string config_path, listen, log_level;
  std::vector<std::string> tokens;
  bool no_mptcp = false;
  app.add_option("-c,--config", config_path, "JSON config file (default: /etc/braid/concentrator.json if present)");
  app.add_option("--listen", listen, "listen address HOST:PORT (default 0.0.0.0:7300)");
  app.add_option("--token", tokens, "a client token to accept (repeatable; adds to the config's tokens)");
  app.add_flag("--no-mptcp", no_mptcp, "listen with plain TCP");
  app.add_option("--log-level", log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.set_version_flag("--version", std::string("braid-concentrator ") + BRAID_VERSION);
  CLI11_PARSE(app, argc, argv);

  config::ConcentratorConfig cfg = config::default_concentrator_config();
  std::string error, text;
  if (!config_path.empty()) {
    if (!config::read_file(config_path, text, error)) {
      std::fprintf(stderr, "braid-concentrator: %s\n", error.c_str());
      return 2;
    }
    // Tokens are validated after the command line adds its own.
    auto parsed = config::parse_concentrator_config(text, error);
    if (!parsed && !(error.rfind("tokens:", 0) == 0 && !tokens.empty())) {
      std::fprintf(stderr, "braid-concentrator: config %s: %s\n", config_path.c_str(), error.c_str());
      return 2;
    }
    if (parsed) cfg = *parsed;
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
  cfg.tokens.insert(cfg.tokens.end(), tokens.begin(), tokens.end());
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
  log::write(log::Level::info, "braid-concentrator %s listening on %s (%s), %zu token(s), at most %u connections", BRAID_VERSION,
            server.bound().to_string().c_str(), server.listening_mptcp() ? "MPTCP" : "TCP", cfg.tokens.size(),
            cfg.limits.max_connections);
  return cmd::run_until_signal(&loop, [&](std::function<void()> done) { server.stop(std::move(done)); });
}
