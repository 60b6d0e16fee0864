#include "gui/policy_switch.hpp"

#include <QButtonGroup>
#include <QHBoxLayout>
#include <QToolButton>

namespace braid::gui {

PolicySwitch::PolicySwitch(QWidget* parent) : QWidget(parent), group_(new QButtonGroup(this)) {
  auto* row = new QHBoxLayout(this);
  row->setContentsMargins(0, 0, 0, 0);
  row->setSpacing(0);
  group_->setExclusive(true);
  row->addWidget(add_button(QStringLiteral("on"), tr("On"), tr("Carry traffic on this path")));
  row->addWidget(add_button(QStringLiteral("backup"), tr("Backup"), tr("Use this path only when no other path works")));
  row->addWidget(add_button(QStringLiteral("off"), tr("Off"), tr("Carry nothing on this path")));
  row->addStretch(1);
  // The chosen policy must read at a glance, in the state colours of the cards.
  setStyleSheet(QStringLiteral(
      "QToolButton { border: 1px solid palette(mid); padding: 3px 10px; background: palette(button); }"
      "QToolButton:checked { color: white; font-weight: bold; }"
      "QToolButton#policy-on:checked { background: #2e9d4f; border-color: #23783c; }"
      "QToolButton#policy-backup:checked { background: #2f6fb3; border-color: #245589; }"
      "QToolButton#policy-off:checked { background: #7a7f86; border-color: #5d6167; }"
      "QToolButton:disabled { color: palette(mid); }"));
}

QToolButton* PolicySwitch::add_button(const QString& policy, const QString& label, const QString& tip) {
  auto* b = new QToolButton(this);
  b->setObjectName(QStringLiteral("policy-") + policy);
  b->setText(label);
  b->setToolTip(tip);
  b->setCheckable(true);
  b->setAutoRaise(false);
  b->setMinimumWidth(64);
  b->setProperty("policy", policy);
  group_->addButton(b);
  connect(b, &QToolButton::clicked, this, [this, policy] {
    if (policy == shown_) return;
    // Keep showing the daemon's word until it answers.
    show_policy(shown_);
    emit policy_chosen(policy);
  });
  return b;
}

void PolicySwitch::show_policy(const QString& policy) {
  shown_ = policy;
  for (auto* b : group_->buttons()) {
    const bool mine = b->property("policy").toString() == policy;
    if (b->isChecked() != mine) {
      // An exclusive group will not uncheck its last checked button.
      group_->setExclusive(false);
      b->setChecked(mine);
      group_->setExclusive(true);
    }
  }
}

void PolicySwitch::set_pending(bool pending) {
  for (auto* b : group_->buttons()) b->setEnabled(!pending);
}

QString PolicySwitch::shown_policy() const { return shown_; }

}  // namespace braid::gui
