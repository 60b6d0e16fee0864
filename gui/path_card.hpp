// One path on the dashboard: what it is (kind icon, interface, addresses),
// what it does (state, rates, RTT, bytes this session and in total) and the
// switch that sets its policy.
#pragma once

#include <QFrame>

#include "gui/path_info.hpp"

class QLabel;

namespace braid::gui {

class PolicySwitch;

class PathCard : public QFrame {
  Q_OBJECT
 public:
  explicit PathCard(const QString& name, QWidget* parent = nullptr);

  QString path_name() const { return name_; }
  /// Shows @p path; @p pending is the policy asked for and not yet confirmed,
  /// @p error the daemon's last refusal.
  void show_path(const PathInfo& path, const QColor& color, const QString& pending, const QString& error);
  /// Rates and byte counts only (once a second).
  void show_traffic(const PathInfo& path);
  /// Greys the card out while the daemon is not reachable.
  void set_reachable(bool reachable);

  PolicySwitch* policy_switch() const { return switch_; }
  QString state_text() const;

 signals:
  void policy_chosen(const QString& name, const QString& policy);

 private:
  QString name_;
  QString kind_;
  QLabel* icon_;
  QLabel* title_;
  QLabel* subtitle_;
  QLabel* state_;
  PolicySwitch* switch_;
  QLabel* note_;
  QLabel* down_rate_;
  QLabel* up_rate_;
  QLabel* rtt_;
  QLabel* session_;
  QLabel* total_;
};

}  // namespace braid::gui
