// A three-way switch for a path's policy: On | Backup | Off. It shows what
// the daemon reports; a click asks for a change (policy_chosen) and the
// switch waits, greyed, until the daemon's answer sets it.
#pragma once

#include <QWidget>

class QButtonGroup;
class QToolButton;

namespace braid::gui {

class PolicySwitch : public QWidget {
  Q_OBJECT
 public:
  explicit PolicySwitch(QWidget* parent = nullptr);

  /// Shows @p policy ("on", "backup", "off") without emitting anything.
  void show_policy(const QString& policy);
  /// While a change is on its way the buttons do not take clicks.
  void set_pending(bool pending);
  QString shown_policy() const;

 signals:
  void policy_chosen(const QString& policy);

 private:
  QToolButton* add_button(const QString& policy, const QString& label, const QString& tip);

  QButtonGroup* group_;
  QString shown_;
};

}  // namespace braid::gui
