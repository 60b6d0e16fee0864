#include "gui/daemon_model.hpp"

#include <QDateTime>
#include <QJsonArray>
#include <QSet>

namespace braid::gui {

DaemonModel::DaemonModel(const LocateOptions& options, QObject* parent)
    : QObject(parent), options_(options), api_(this), stream_(api_, this) {
  retry_timer_.setSingleShot(true);
  connect(&retry_timer_, &QTimer::timeout, this, &DaemonModel::attempt);
  connect(&stream_, &TrafficStream::event_received, this, &DaemonModel::on_event);
  connect(&stream_, &TrafficStream::ended, this, &DaemonModel::on_stream_ended);
}

void DaemonModel::start() { retry_soon(0); }

void DaemonModel::retry_soon(int delay_ms) { retry_timer_.start(delay_ms); }

const PathInfo* DaemonModel::find_path(const QString& name) const {
  for (const auto& p : paths_)
    if (p.name == name) return &p;
  return nullptr;
}

void DaemonModel::set_link(DaemonLink link, const QString& problem) {
  if (link == link_ && problem == link_problem_) return;
  link_ = link;
  link_problem_ = problem;
  emit link_changed();
}

void DaemonModel::attempt() {
  if (attempt_in_flight_ || link_ == DaemonLink::reachable) return;
  // Read the config and the token afresh: a daemon started since may have
  // created the token, or moved the API.
  const ApiTarget target = ApiTarget::locate(options_);
  QString token_error;
  const QByteArray token = target.read_token(&token_error);
  api_.set_target(target, token);
  if (!target.enabled) {
    lose_link(DaemonLink::rejected, target.problem);
    return;
  }
  attempt_in_flight_ = true;
  api_.get(QStringLiteral("/v1/status"), this, [this, token_error, problem = target.problem](const ApiResult& r) {
    attempt_in_flight_ = false;
    if (r.status == 401) {
      // Something answers: our token is missing or stale.
      lose_link(DaemonLink::rejected, token_error.isEmpty() ? r.error : token_error);
      return;
    }
    if (!r.ok()) {
      QString why = r.error;
      if (!problem.isEmpty()) why += QStringLiteral(" (%1)").arg(problem);
      lose_link(r.answered() ? DaemonLink::rejected : DaemonLink::unreachable, why);
      return;
    }
    on_status_answer(r);
    stream_.open();
    set_link(DaemonLink::reachable, problem);
  });
}

void DaemonModel::lose_link(DaemonLink link, const QString& why) {
  stream_.close();
  const bool was_reachable = link_ == DaemonLink::reachable;
  pending_.clear();
  if (was_reachable) {
    // A gap in the chart rather than a line drawn across the outage.
    ThroughputSample gap;
    gap.at_ms = QDateTime::currentMSecsSinceEpoch();
    for (const auto& p : paths_) gap.rates.insert(p.name, {});
    history_.append(std::move(gap));
    for (auto& p : paths_) p.up_bps = p.down_bps = 0;
  }
  set_link(link, why);
  if (was_reachable) {
    emit paths_changed();
    emit traffic_updated();
  }
  // After losing a working daemon try again quickly (a restart takes a moment).
  retry_timer_.start(was_reachable ? 1000 : kRetryMs);
}

void DaemonModel::on_status_answer(const ApiResult& r) {
  const auto j = r.body.object();
  status_ = DaemonStatus::from_json(j);
  emit status_changed();
  replace_paths(j.value(QStringLiteral("paths")).toArray());
}

void DaemonModel::refresh_status() {
  api_.get(QStringLiteral("/v1/status"), this, [this](const ApiResult& r) {
    if (r.ok() && link_ == DaemonLink::reachable) on_status_answer(r);
  });
}

void DaemonModel::refresh_paths() {
  api_.get(QStringLiteral("/v1/paths"), this, [this](const ApiResult& r) {
    if (r.ok() && link_ == DaemonLink::reachable) replace_paths(r.body.array());
  });
}

void DaemonModel::replace_paths(const QJsonArray& list) {
  QList<PathInfo> fresh;
  for (const auto& v : list) fresh.append(PathInfo::from_json(v.toObject()));
  paths_ = fresh;
  emit paths_changed();
}

void DaemonModel::replace_path(const QJsonObject& one) {
  const PathInfo p = PathInfo::from_json(one);
  for (auto& old : paths_)
    if (old.name == p.name) old = p;
}

void DaemonModel::on_event(const QJsonObject& event) {
  const QString type = event.value(QStringLiteral("type")).toString();
  if (type == QLatin1String("paths")) {
    replace_paths(event.value(QStringLiteral("paths")).toArray());
    // The event does not carry the mode, which a change from the CLI may have moved.
    refresh_status();
    return;
  }
  if (type != QLatin1String("traffic")) return;

  status_.connections = event.value(QStringLiteral("connections")).toInt();
  status_.uptime_s = event.value(QStringLiteral("uptime_s")).toDouble();
  const auto per_path = event.value(QStringLiteral("paths")).toObject();
  ThroughputSample sample;
  sample.at_ms = QDateTime::currentMSecsSinceEpoch();
  bool changed = false;
  QSet<QString> seen;
  for (auto& p : paths_) {
    if (!per_path.contains(p.name)) continue;
    seen.insert(p.name);
    const QString state = p.state, policy = p.policy;
    p.apply_traffic(per_path.value(p.name).toObject());
    changed = changed || state != p.state || policy != p.policy;
    sample.rates.insert(p.name, {p.up_bps, p.down_bps});
  }
  history_.append(std::move(sample));
  // A path we do not know (or one that went away) means the list moved.
  if (seen.size() != per_path.size() || seen.size() != paths_.size()) refresh_paths();
  if (changed) emit paths_changed();
  emit traffic_updated();
}

void DaemonModel::on_stream_ended(const QString& reason) {
  if (link_ != DaemonLink::reachable) return;
  lose_link(DaemonLink::unreachable, reason);
}

void DaemonModel::set_policy(const QString& name, const QString& policy) {
  if (link_ != DaemonLink::reachable) {
    emit action_failed(name, QStringLiteral("the daemon is not reachable"));
    return;
  }
  pending_.insert(name, policy);
  path_errors_.remove(name);
  emit paths_changed();
  const QJsonObject body{{QStringLiteral("policy"), policy}};
  api_.put(QStringLiteral("/v1/paths/") + name, QJsonDocument(body), this, [this, name, policy](const ApiResult& r) {
    // A later click supersedes this answer's pending mark, not its result.
    if (pending_.value(name) == policy) pending_.remove(name);
    if (r.ok()) {
      replace_path(r.body.object());
      status_.mode = QStringLiteral("custom");  // docs/API.md: a per-path change makes the mode custom
      emit paths_changed();
      emit status_changed();
      return;
    }
    path_errors_.insert(name, r.error);
    emit paths_changed();
    emit action_failed(name, r.error);
    if (!r.answered()) lose_link(DaemonLink::unreachable, r.error);
  });
}

void DaemonModel::set_mode(const QString& mode) {
  if (link_ != DaemonLink::reachable) {
    emit action_failed(QStringLiteral("mode"), QStringLiteral("the daemon is not reachable"));
    return;
  }
  const QJsonObject body{{QStringLiteral("mode"), mode}};
  api_.put(QStringLiteral("/v1/mode"), QJsonDocument(body), this, [this](const ApiResult& r) {
    if (r.ok()) {
      const auto j = r.body.object();
      status_.mode = j.value(QStringLiteral("mode")).toString();
      path_errors_.clear();
      emit status_changed();
      replace_paths(j.value(QStringLiteral("paths")).toArray());
      return;
    }
    emit action_failed(QStringLiteral("mode"), r.error);
    emit status_changed();  // puts the mode selector back
    if (!r.answered()) lose_link(DaemonLink::unreachable, r.error);
  });
}

}  // namespace braid::gui
