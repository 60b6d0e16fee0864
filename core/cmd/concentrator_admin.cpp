#include "cmd/concentrator_admin.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "concentrator/users.hpp"
#include "net/tls_identity.hpp"
#include "tunnel/access_key.hpp"

namespace braid::cmd {

namespace fs = std::filesystem;

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "braid-concentrator: %s\n", message.c_str());
  return 1;
}

// The config, with its files found relative to it.
bool load_config(const std::string& path, config::ConcentratorConfig& cfg, std::string& error) {
  std::string text;
  if (!config::read_file(path, text, error)) {
    error += " (give the concentrator's config with -c, or run braid-concentrator init first)";
    return false;
  }
  auto parsed = config::parse_concentrator_config(text, error);
  if (!parsed) {
    error = "config " + path + ": " + error;
    return false;
  }
  cfg = *parsed;
  resolve_relative_paths(cfg, path);
  return true;
}

bool key_for(const config::ConcentratorConfig& cfg, const std::string& host_override, const std::string& user,
             const std::string& token, std::string& line, std::string& error) {
  access::AccessKey k;
  k.user = user;
  k.token = token;
  std::string where = host_override.empty() ? cfg.public_address : host_override;
  if (where.empty()) {
    error = "the config has no public_address: say where clients connect with --host HOST:PORT";
    return false;
  }
  auto addr = parse_host_port(where, &error);
  if (!addr) {
    // A bare host takes the listener's port.
    addr = parse_host_port(where + ":" + std::to_string(cfg.listen.port), &error);
    if (!addr) return false;
  }
  k.address = *addr;
  std::string pem;
  if (cfg.insecure_plaintext || cfg.tls_cert.empty()) {
    error = "the concentrator has no TLS certificate (insecure_plaintext): access keys need one";
    return false;
  }
  if (!config::read_file(cfg.tls_cert, pem, error) || !net::fingerprint_of_pem(pem, k.fingerprint, error)) {
    error = "TLS certificate " + cfg.tls_cert + ": " + error;
    return false;
  }
  line = access::format(k);
  return true;
}

}  // namespace

void resolve_relative_paths(config::ConcentratorConfig& cfg, const std::string& config_path) {
  const fs::path base = fs::path(config_path).parent_path();
  for (std::string* p : {&cfg.users_file, &cfg.tls_cert, &cfg.tls_key})
    if (!p->empty() && fs::path(*p).is_relative()) *p = (base / *p).string();
}

int concentrator_init(const InitOptions& o) {
  if (!access::valid_user_name(o.user)) return fail("--user " + o.user + ": 1 to 64 letters, digits, '.', '_' or '-'");
  std::string host = o.host;
  if (host.empty()) {
    char name[256] = {};
    gethostname(name, sizeof name - 1);
    host = name;
  }
  std::error_code ec;
  fs::create_directories(o.dir, ec);
  const fs::path dir = fs::absolute(o.dir, ec);
  const std::string key_file = (dir / "key.pem").string(), cert_file = (dir / "cert.pem").string(),
                    users_file = (dir / "users.json").string(), config_file = (dir / "concentrator.json").string();
  if (!o.force)
    for (const auto& f : {key_file, users_file, config_file})
      if (fs::exists(f)) return fail(f + " exists already; use --force to replace it (every access key stops working)");

  net::TlsIdentity id;
  std::string error;
  if (!net::make_self_signed_identity(host, 3650, id, error)) return fail(error);
  const std::string user_token = access::make_token();
  concentrator::Users users;
  users.set(o.user, user_token);

  // Host names with a colon (IPv6) need brackets in HOST:PORT.
  const std::string public_address =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(o.port);
  nlohmann::json cfg = {{"listen", "0.0.0.0:" + std::to_string(o.port)},
                        {"public_address", public_address},
                        {"users_file", users_file},
                        {"tls", {{"cert", cert_file}, {"key", key_file}}}};
  if (!config::write_file_atomic(key_file, id.key_pem, 0600, error) ||
      !config::write_file_atomic(cert_file, id.cert_pem, 0644, error) ||
      !config::write_file_atomic(users_file, users.to_json(), 0600, error) ||
      !config::write_file_atomic(config_file, cfg.dump(2) + "\n", 0644, error))
    return fail(error);

  config::ConcentratorConfig parsed;
  std::string line;
  if (!load_config(config_file, parsed, error) || !key_for(parsed, "", o.user, user_token, line, error))
    return fail(error);
  std::fprintf(stderr,
               "braid-concentrator: wrote %s (ECDSA P-256 key), %s (self-signed, %s), %s (user %s) and %s\n"
               "  start it:  braid-concentrator -c %s\n"
               "  on each client, import the access key below:  braid add-concentrator '<key>'\n"
               "  more users:  braid-concentrator user add NAME -c %s\n",
               key_file.c_str(), cert_file.c_str(), net::fingerprint_to_string(id.fingerprint).c_str(),
               users_file.c_str(), o.user.c_str(), config_file.c_str(), config_file.c_str(), config_file.c_str());
  std::printf("%s\n", line.c_str());
  return 0;
}

int concentrator_user_add(const std::string& config_path, const std::string& name, const std::string& host) {
  if (!access::valid_user_name(name)) return fail("user " + name + ": 1 to 64 letters, digits, '.', '_' or '-'");
  config::ConcentratorConfig cfg;
  std::string error;
  if (!load_config(config_path, cfg, error)) return fail(error);
  auto users = concentrator::Users::load(cfg.users_file, error);
  if (!users) return fail(error);
  const bool replaced = users->contains(name);
  const std::string token = access::make_token();
  users->set(name, token);
  std::string line;
  if (!key_for(cfg, host, name, token, line, error)) return fail(error);
  if (!config::write_file_atomic(cfg.users_file, users->to_json(), 0600, error)) return fail(error);
  std::fprintf(stderr,
               "braid-concentrator: %s user %s in %s; a running concentrator needs SIGHUP to see it "
               "(kill -HUP PID, or systemctl reload)\n",
               replaced ? "new token for" : "added", name.c_str(), cfg.users_file.c_str());
  std::printf("%s\n", line.c_str());
  return 0;
}

int concentrator_user_revoke(const std::string& config_path, const std::string& name) {
  config::ConcentratorConfig cfg;
  std::string error;
  if (!load_config(config_path, cfg, error)) return fail(error);
  auto users = concentrator::Users::load(cfg.users_file, error);
  if (!users) return fail(error);
  if (!users->remove(name)) return fail("no user " + name + " in " + cfg.users_file);
  if (!config::write_file_atomic(cfg.users_file, users->to_json(), 0600, error)) return fail(error);
  std::fprintf(stderr,
               "braid-concentrator: revoked user %s in %s; a running concentrator refuses it after SIGHUP "
               "(kill -HUP PID, or systemctl reload); connections already open are not cut\n",
               name.c_str(), cfg.users_file.c_str());
  return 0;
}

int concentrator_user_list(const std::string& config_path) {
  config::ConcentratorConfig cfg;
  std::string error;
  if (!load_config(config_path, cfg, error)) return fail(error);
  std::string text;
  if (!config::read_file(cfg.users_file, text, error)) return fail(error);
  try {
    auto j = nlohmann::json::parse(text);
    for (auto it = j["users"].begin(); it != j["users"].end(); ++it) std::printf("%s\n", it.key().c_str());
  } catch (const nlohmann::json::exception& e) {
    return fail(cfg.users_file + ": " + e.what());
  }
  return 0;
}

}  // namespace braid::cmd
