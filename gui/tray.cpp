#include "gui/tray.hpp"

#include <QAction>
#include <QActionGroup>
#include <QMenu>
#include <QSystemTrayIcon>

#include "gui/daemon_launcher.hpp"
#include "gui/daemon_model.hpp"
#include "gui/human_units.hpp"
#include "gui/icons.hpp"

namespace braid::gui {

namespace {

QString policy_words(const QString& policy) {
  if (policy == QLatin1String("on")) return QObject::tr("On");
  if (policy == QLatin1String("backup")) return QObject::tr("Backup (only when nothing else works)");
  return QObject::tr("Off");
}

}  // namespace

Tray::Tray(DaemonModel& model, QObject* parent)
    : QObject(parent), model_(model), menu_(new QMenu), icon_(new QSystemTrayIcon(this)) {
  menu_->setObjectName(QStringLiteral("TrayMenu"));
  icon_->setContextMenu(menu_);
  connect(icon_, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason why) {
    if (why == QSystemTrayIcon::Trigger || why == QSystemTrayIcon::DoubleClick) emit dashboard_requested();
  });
  // Menus are rebuilt on the next turn of the event loop: an action must not
  // be deleted while its own triggered() signal runs.
  rebuild_timer_.setSingleShot(true);
  rebuild_timer_.setInterval(0);
  connect(&rebuild_timer_, &QTimer::timeout, this, &Tray::rebuild_menu);
  connect(menu_, &QMenu::aboutToHide, this, [this] {
    if (rebuild_when_hidden_) schedule_rebuild();
  });

  connect(&model_, &DaemonModel::link_changed, this, &Tray::schedule_rebuild);
  connect(&model_, &DaemonModel::paths_changed, this, &Tray::schedule_rebuild);
  connect(&model_, &DaemonModel::status_changed, this, &Tray::schedule_rebuild);
  connect(&model_, &DaemonModel::link_changed, this, &Tray::update_state);
  connect(&model_, &DaemonModel::paths_changed, this, &Tray::update_state);
  connect(&model_, &DaemonModel::status_changed, this, &Tray::update_state);
  connect(&model_, &DaemonModel::traffic_updated, this, &Tray::update_tooltip);
  update_state();
  rebuild_menu();
}

Tray::~Tray() { delete menu_; }

bool Tray::system_tray_available() { return QSystemTrayIcon::isSystemTrayAvailable(); }

void Tray::show() {
  if (system_tray_available()) icon_->show();
}

QAction* Tray::action(const QString& object_name) const {
  return menu_->findChild<QAction*>(object_name);
}

void Tray::schedule_rebuild() {
  if (!rebuild_timer_.isActive()) rebuild_timer_.start();
}

void Tray::update_state() {
  const auto v = judge_tray_state(model_.link(), model_.link_problem(), model_.status(), model_.paths());
  if (v.state != verdict_.state || icon_->icon().isNull()) icon_->setIcon(icons::icon(state_icon_name(v.state)));
  verdict_ = v;
  update_tooltip();
}

void Tray::update_tooltip() {
  QStringList lines{QStringLiteral("Braid — ") + verdict_.headline};
  if (model_.link() == DaemonLink::reachable) {
    for (const auto& p : model_.paths()) {
      if (p.state == QLatin1String("off")) {
        lines.append(QStringLiteral("%1: off").arg(p.name));
        continue;
      }
      lines.append(QStringLiteral("%1: ↓ %2  ↑ %3").arg(p.name, units::rate(p.down_bps), units::rate(p.up_bps)));
    }
  } else if (!verdict_.detail.isEmpty()) {
    lines.append(verdict_.detail);
  }
  tooltip_ = lines.join(QLatin1Char('\n'));
  icon_->setToolTip(tooltip_);
}

void Tray::rebuild_menu() {
  if (menu_->isVisible()) {
    rebuild_when_hidden_ = true;
    return;
  }
  rebuild_when_hidden_ = false;
  menu_->clear();
  // clear() leaves submenus and action groups parented to the menu; drop them too.
  for (auto* child : menu_->findChildren<QMenu*>(QString(), Qt::FindDirectChildrenOnly)) delete child;
  for (auto* child : menu_->findChildren<QActionGroup*>(QString(), Qt::FindDirectChildrenOnly)) delete child;

  auto* header = menu_->addAction(icons::icon(state_icon_name(verdict_.state)), verdict_.headline);
  header->setEnabled(false);
  header->setObjectName(QStringLiteral("state"));

  const bool reachable = model_.link() == DaemonLink::reachable;
  if (!reachable) {
    auto* start = menu_->addAction(tr("Start daemon"));
    start->setObjectName(QStringLiteral("start-daemon"));
    start->setToolTip(tr("Runs `braid up`"));
    connect(start, &QAction::triggered, this, [this] {
      QString error;
      if (DaemonLauncher::start(model_.locate_options().config_path, &error)) {
        model_.retry_soon(700);
      } else if (icon_->isVisible()) {
        icon_->showMessage(tr("Braid"), error, QSystemTrayIcon::Warning);
      }
    });
  }

  if (reachable) {
    menu_->addSection(tr("Paths"));
    auto* policies = new QMenu(tr("Path policy"), menu_);
    policies->setObjectName(QStringLiteral("policy-menu"));
    for (const auto& p : model_.paths()) {
      const QString pending = model_.pending_policy(p.name);
      // Checked: the path carries traffic (on or backup); unchecked: off.
      // No icon here: styles draw a checkable action's icon in place of its check mark.
      auto* toggle = menu_->addAction(QStringLiteral("%1 — %2, %3").arg(p.name, kind_label(p.kind), p.state));
      toggle->setObjectName(QStringLiteral("path-") + p.name);
      toggle->setCheckable(true);
      toggle->setChecked(p.policy != QLatin1String("off"));
      toggle->setEnabled(pending.isEmpty());
      connect(toggle, &QAction::triggered, this, [this, name = p.name](bool checked) {
        model_.set_policy(name, checked ? QStringLiteral("on") : QStringLiteral("off"));
      });

      auto* title = policies->addAction(icons::icon(icons::kind_icon_name(p.kind)),
                                        QStringLiteral("%1 (%2)").arg(p.name, kind_label(p.kind)));
      title->setEnabled(false);
      auto* group = new QActionGroup(policies);
      group->setExclusive(true);
      for (const QString& policy : {QStringLiteral("on"), QStringLiteral("backup"), QStringLiteral("off")}) {
        auto* a = policies->addAction(QStringLiteral("    ") + policy_words(policy));
        a->setObjectName(QStringLiteral("policy-%1-%2").arg(p.name, policy));
        a->setCheckable(true);
        a->setChecked(p.policy == policy);
        a->setEnabled(pending.isEmpty());
        group->addAction(a);
        connect(a, &QAction::triggered, this, [this, name = p.name, policy] { model_.set_policy(name, policy); });
      }
      policies->addSeparator();
    }
    if (model_.paths().isEmpty()) menu_->addAction(tr("No paths (no interface with an address)"))->setEnabled(false);
    else menu_->addMenu(policies);

    auto* modes = menu_->addMenu(tr("Mode"));
    modes->setObjectName(QStringLiteral("mode-menu"));
    auto* group = new QActionGroup(modes);
    const QString mode = model_.status().mode;
    for (const auto& [name, words] : {std::pair{QStringLiteral("aggregate"), tr("Aggregate — every path carries")},
                                      std::pair{QStringLiteral("failover"), tr("Failover — best path, others backup")}}) {
      auto* a = modes->addAction(words);
      a->setObjectName(QStringLiteral("mode-") + name);
      a->setCheckable(true);
      a->setChecked(mode == name);
      group->addAction(a);
      connect(a, &QAction::triggered, this, [this, name = name] { model_.set_mode(name); });
    }
    if (mode == QLatin1String("custom")) {
      auto* custom = modes->addAction(tr("Custom — per-path choices"));
      custom->setCheckable(true);
      custom->setChecked(true);
      custom->setEnabled(false);
    }
  }

  menu_->addSeparator();
  auto* open = menu_->addAction(tr("Open dashboard"));
  open->setObjectName(QStringLiteral("open-dashboard"));
  connect(open, &QAction::triggered, this, &Tray::dashboard_requested);
  auto* quit = menu_->addAction(tr("Quit"));
  quit->setObjectName(QStringLiteral("quit"));
  quit->setToolTip(tr("Closes the tray app; the daemon keeps running"));
  connect(quit, &QAction::triggered, this, &Tray::quit_requested);
}

}  // namespace braid::gui
