#include "control/api.hpp"

#include <nlohmann/json.hpp>

#include "client/engine.hpp"
#include "net/log.hpp"
#include "paths/path.hpp"

#ifndef BRAID_VERSION
#define BRAID_VERSION "0.0.0"
#endif

namespace braid::control {

namespace {

using nlohmann::json;

Response ok(const json& j) {
  Response r;
  r.body = j.dump();
  return r;
}

json counters(const paths::Counters& c) { return {{"up", c.up}, {"down", c.down}}; }

json path_json(client::Engine& e, const paths::Path& p) {
  json addrs = json::array();
  for (const auto& a : p.addresses) addrs.push_back(Destination::from_sockaddr(reinterpret_cast<const sockaddr*>(&a)).host());
  const auto t = e.telemetry().path(p.name);
  return {{"name", p.name},
          {"kind", paths::to_string(p.kind)},
          {"state", paths::to_string(p.state())},
          {"policy", paths::to_string(p.policy)},
          {"addresses", addrs},
          {"link_up", p.link_up},
          {"has_route", p.has_route},
          {"session", counters(t.session)},
          {"total", counters(t.total)},
          {"rate_1s", {{"up_bps", t.up_bps_1s}, {"down_bps", t.down_bps_1s}}},
          {"rate_10s", {{"up_bps", t.up_bps_10s}, {"down_bps", t.down_bps_10s}}},
          {"rtt_ms", t.rtt_us / 1000.0},
          {"subflows", t.subflows}};
}

json paths_json(client::Engine& e) {
  json out = json::array();
  if (auto* pm = e.paths())
    for (const auto& p : pm->paths()) out.push_back(path_json(e, p));
  return out;
}

json pool_json(client::Engine& e) {
  const auto p = e.pool_stats();
  if (!p.enabled) return {{"enabled", false}};
  return {{"enabled", true},
          {"min", p.min},
          {"max", p.max},
          {"target", p.target},
          {"idle", p.idle},
          {"opening", p.opening},
          {"hits", p.hits},
          {"misses", p.misses},
          {"fallbacks", p.fallbacks},
          {"opened", p.opened},
          {"refill_failures", p.refill_failures},
          {"closed_idle", p.closed_idle},
          {"expired", p.expired},
          {"path_drops", p.path_drops},
          {"backoff_ms", p.backoff_ms},
          {"last_error", p.last_error}};
}

json status_json(client::Engine& e) {
  json listening = json::array();
  for (const auto& l : e.listening())
    listening.push_back({{"protocol", client::frontend_name(l.frontend)}, {"address", l.address.to_string()}});
  const auto& cfg = e.config();
  auto* pm = e.paths();
  json control = {{"available", pm && pm->control_available()}, {"reason", pm ? pm->control_reason() : "paths are not followed"}};
  if (pm && !cfg.manage_endpoints) control = {{"available", false}, {"reason", "manage_endpoints is false in the config"}};
  // Whether PUT /v1/paths/NAME is accepted (with manage_endpoints false it is,
  // and steers only braid's own choices).
  control["policy_settable"] = pm && (!cfg.manage_endpoints || pm->control_available());
  return {{"version", BRAID_VERSION},
          {"uptime_s", e.uptime_ms() / 1000},
          {"listening", listening},
          {"concentrator", cfg.concentrator ? json(cfg.concentrator->address.to_string()) : json(nullptr)},
          {"mptcp", {{"enabled", cfg.mptcp}, {"available", e.mptcp_error() == 0}, {"detail", platform::describe_mptcp_error(e.mptcp_error())}}},
          {"path_control", control},
          {"mode", pm ? paths::to_string(pm->mode()) : "aggregate"},
          {"connections", e.session_count()},
          {"pool", pool_json(e)},
          {"paths", paths_json(e)}};
}

json connections_json(client::Engine& e) {
  json out = json::array();
  for (const auto& c : e.connections()) {
    json per_path = json::object();
    for (const auto& [name, ctr] : e.telemetry().connection(c.id)) per_path[name] = counters(ctr);
    out.push_back({{"id", c.id},
                   {"protocol", c.protocol},
                   {"destination", c.destination},
                   {"state", c.state},
                   {"age_s", c.age_ms / 1000.0},
                   {"bytes_up", c.bytes_up},
                   {"bytes_down", c.bytes_down},
                   {"mptcp", c.mptcp},
                   {"prewarmed", c.prewarmed},
                   {"paths", per_path}});
  }
  return out;
}

// Parses a JSON request body into an object, or says what is wrong with it.
bool body_object(const Request& req, json& out, Response& err) {
  try {
    out = json::parse(req.body);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e400
    err = error_response(400, std::string("the body is not valid JSON: ") + e.what());
    return false;
  }
  if (!out.is_object()) {
    err = error_response(400, "the body must be a JSON object");
    return false;
  }
  return true;
}

Response handle_path(client::Engine& e, const Request& req, const std::string& name) {
  auto* pm = e.paths();
  if (!pm) return error_response(503, "paths are not followed on this system");
  const auto* p = pm->find(name);
  if (!p) return error_response(404, "no path named '" + name + "'");
  if (req.method == "GET") return ok(path_json(e, *p));
  if (req.method != "PUT" && req.method != "POST") return error_response(405, "use GET or PUT on /v1/paths/NAME");
  json body;
  Response err;
  if (!body_object(req, body, err)) return err;
  if (!body.contains("policy") || !body["policy"].is_string())
    return error_response(400, "policy: required, one of on, backup, off");
  auto policy = paths::parse_policy(body["policy"].get<std::string>());
  if (!policy) return error_response(400, "policy: expected one of on, backup, off, got " + body["policy"].dump());
  std::string error;
  if (!pm->set_policy(name, *policy, error)) return error_response(403, error);
  BRAID_LOG(info, "path %s set to %s through the control API", name.c_str(), paths::to_string(*policy));
  json out = path_json(e, *pm->find(name));
  if (!e.config().manage_endpoints)
    out["warning"] = "manage_endpoints is false: braid uses this policy for new connections and UDP, but the "
                     "kernel's MPTCP endpoints are left alone, so live connections keep their subflows on this path";
  return ok(out);
}

Response handle_mode(client::Engine& e, const Request& req) {
  auto* pm = e.paths();
  if (!pm) return error_response(503, "paths are not followed on this system");
  if (req.method == "GET") return ok({{"mode", paths::to_string(pm->mode())}});
  if (req.method != "PUT" && req.method != "POST") return error_response(405, "use GET or PUT on /v1/mode");
  json body;
  Response err;
  if (!body_object(req, body, err)) return err;
  auto mode = body.contains("mode") && body["mode"].is_string() ? paths::parse_mode(body["mode"].get<std::string>())
                                                                 : std::nullopt;
  if (!mode) return error_response(400, "mode: expected aggregate or failover");
  std::string error;
  if (!pm->set_mode(*mode, error)) return error_response(403, error);
  return ok({{"mode", paths::to_string(pm->mode())}, {"paths", paths_json(e)}});
}

Response handle_config(client::Engine& e, const Request& req) {
  if (req.method == "GET") {
    Response r;
    r.body = config::to_json(e.config());
    return r;
  }
  if (req.method != "PUT" && req.method != "POST") return error_response(405, "use GET or PUT on /v1/config");
  std::string error;
  auto parsed = config::parse_client_config(req.body, error);
  if (!parsed) return error_response(400, error);
  const std::string path = e.config_path().empty() ? config::default_config_path("braid.json") : e.config_path();
  if (!config::write_file_atomic(path, config::to_json(*parsed) + "\n", 0600, error))
    return error_response(500, error);
  BRAID_LOG(info, "config written to %s through the control API", path.c_str());
  return ok({{"saved", path}, {"restart_required", true}});
}

}  // namespace

std::string traffic_event(client::Engine& e) {
  json paths = json::object();
  if (auto* pm = e.paths()) {
    for (const auto& p : pm->paths()) {
      const auto t = e.telemetry().path(p.name);
      paths[p.name] = {{"up_bps", t.up_bps_1s},     {"down_bps", t.down_bps_1s}, {"session", counters(t.session)},
                       {"total", counters(t.total)}, {"rtt_ms", t.rtt_us / 1000.0}, {"state", paths::to_string(p.state())},
                       {"policy", paths::to_string(p.policy)}, {"subflows", t.subflows}};
    }
  }
  return json{{"type", "traffic"}, {"uptime_s", e.uptime_ms() / 1000.0}, {"connections", e.session_count()}, {"paths", paths}}
      .dump();
}

std::string paths_event(client::Engine& e) {
  auto* pm = e.paths();
  return json{{"type", "paths"}, {"mode", pm ? paths::to_string(pm->mode()) : "aggregate"}, {"paths", paths_json(e)}}
      .dump();
}

ApiServer::Handler make_handler(client::Engine& engine) {
  return [&engine](const Request& req) -> Response {
    const std::string& p = req.path;
    if (p == "/v1/status") return req.method == "GET" ? ok(status_json(engine)) : error_response(405, "use GET");
    if (p == "/v1/paths") return req.method == "GET" ? ok(paths_json(engine)) : error_response(405, "use GET");
    if (p.rfind("/v1/paths/", 0) == 0) return handle_path(engine, req, p.substr(10));
    if (p == "/v1/mode") return handle_mode(engine, req);
    if (p == "/v1/connections") return req.method == "GET" ? ok(connections_json(engine)) : error_response(405, "use GET");
    if (p.rfind("/v1/connections/", 0) == 0) {
      if (req.method != "DELETE") return error_response(405, "use DELETE to close a connection");
      uint64_t id = 0;
      try {
        id = std::stoull(p.substr(16));
      } catch (const std::exception&) {
        return error_response(400, "connection id must be a number");
      }
      return engine.kill(id) ? ok({{"closed", id}}) : error_response(404, "no connection " + std::to_string(id));
    }
    if (p == "/v1/traffic") {
      if (req.method != "GET") return error_response(405, "use GET");
      Response r;
      r.stream = true;
      r.body = "data: " + traffic_event(engine) + "\n\n";
      return r;
    }
    if (p == "/v1/config") return handle_config(engine, req);
    if (p == "/v1/logs") {
      size_t n = 200;
      try {
        n = std::stoul(req.param("lines", "200"));
      } catch (const std::exception&) {
        return error_response(400, "lines must be a number");
      }
      return ok({{"lines", log::recent(std::min<size_t>(n, 1000))}});
    }
    return error_response(404, "no resource " + p + " (see docs/API.md)");
  };
}

}  // namespace braid::control
