// Everything the GUI knows about the daemon, kept current from the control
// API: whether it answers, its status, its paths with live rates, the last
// five minutes of per-path throughput, and the user's pending path changes.
// Widgets read it and listen to its signals; they never call the API for
// paths or mode themselves, so the tray and the dashboard always agree.
#pragma once

#include <QHash>
#include <QList>
#include <QObject>
#include <QTimer>

#include "gui/api_client.hpp"
#include "gui/daemon_link.hpp"
#include "gui/daemon_status.hpp"
#include "gui/path_info.hpp"
#include "gui/throughput_history.hpp"
#include "gui/traffic_stream.hpp"

namespace braid::gui {

class DaemonModel : public QObject {
  Q_OBJECT
 public:
  /// How often an unreachable daemon is tried again.
  static constexpr int kRetryMs = 3000;

  explicit DaemonModel(const LocateOptions& options, QObject* parent = nullptr);

  /// Starts connecting (and keeps retrying while the daemon does not answer).
  void start();
  /// Tries now instead of at the next retry (after starting a daemon).
  void retry_soon(int delay_ms = 0);

  DaemonLink link() const { return link_; }
  /// Why the link is not reachable (or what is odd about the config).
  QString link_problem() const { return link_problem_; }
  const ApiTarget& target() const { return api_.target(); }
  const LocateOptions& locate_options() const { return options_; }
  ApiClient& api() { return api_; }

  const DaemonStatus& status() const { return status_; }
  const QList<PathInfo>& paths() const { return paths_; }
  const PathInfo* find_path(const QString& name) const;
  const ThroughputHistory& history() const { return history_; }

  /// The policy the user asked for and the daemon has not confirmed yet.
  QString pending_policy(const QString& name) const { return pending_.value(name); }
  /// The last refusal for this path ("path control needs CAP_NET_ADMIN…"), cleared by success.
  QString path_error(const QString& name) const { return path_errors_.value(name); }

  /// PUT /v1/paths/NAME; the daemon's answer is applied as soon as it comes.
  void set_policy(const QString& name, const QString& policy);
  /// PUT /v1/mode (aggregate or failover).
  void set_mode(const QString& mode);

 signals:
  void link_changed();
  /// The set of paths, a state, a policy or a pending change moved.
  void paths_changed();
  /// Status fields (mode, listeners, MPTCP, path control) changed.
  void status_changed();
  /// A traffic event arrived: rates, byte counts and the history moved.
  void traffic_updated();
  /// A user action was refused; @p subject is the path name or "mode".
  void action_failed(const QString& subject, const QString& message);

 private:
  void attempt();
  void on_status_answer(const ApiResult& r);
  void on_event(const QJsonObject& event);
  void on_stream_ended(const QString& reason);
  void lose_link(DaemonLink link, const QString& why);
  void set_link(DaemonLink link, const QString& problem);
  void replace_paths(const QJsonArray& list);
  void replace_path(const QJsonObject& one);
  void refresh_status();
  void refresh_paths();

  LocateOptions options_;
  ApiClient api_;
  TrafficStream stream_;
  QTimer retry_timer_;
  bool attempt_in_flight_ = false;

  DaemonLink link_ = DaemonLink::connecting;
  QString link_problem_;
  DaemonStatus status_;
  QList<PathInfo> paths_;
  ThroughputHistory history_;
  QHash<QString, QString> pending_;
  QHash<QString, QString> path_errors_;
};

}  // namespace braid::gui
