#include "gui/status_banner.hpp"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

#include "gui/daemon_launcher.hpp"
#include "gui/daemon_model.hpp"
#include "gui/icons.hpp"
#include "gui/tray_state.hpp"

namespace braid::gui {

StatusBanner::StatusBanner(DaemonModel& model, QWidget* parent)
    : QFrame(parent),
      model_(model),
      icon_(new QLabel(this)),
      headline_(new QLabel(this)),
      detail_(new QLabel(this)),
      tray_notice_(new QLabel(this)),
      start_(new QPushButton(tr("Start daemon"), this)),
      retry_(new QPushButton(tr("Retry now"), this)) {
  setObjectName(QStringLiteral("StatusBanner"));
  setFrameShape(QFrame::StyledPanel);
  QFont f = headline_->font();
  f.setPointSizeF(f.pointSizeF() * 1.3);
  f.setBold(true);
  headline_->setFont(f);
  headline_->setObjectName(QStringLiteral("headline"));
  detail_->setWordWrap(true);
  detail_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  tray_notice_->setWordWrap(true);
  tray_notice_->setObjectName(QStringLiteral("tray-notice"));
  tray_notice_->hide();
  start_->setObjectName(QStringLiteral("start-daemon"));
  start_->setToolTip(tr("Runs `braid up` (next to braid-gui, else from PATH)"));

  auto* words = new QVBoxLayout;
  words->setSpacing(2);
  words->addWidget(headline_);
  words->addWidget(detail_);
  words->addWidget(tray_notice_);
  auto* row = new QHBoxLayout(this);
  row->addWidget(icon_, 0, Qt::AlignTop);
  row->addLayout(words, 1);
  row->addWidget(start_, 0, Qt::AlignVCenter);
  row->addWidget(retry_, 0, Qt::AlignVCenter);

  connect(start_, &QPushButton::clicked, this, &StatusBanner::start_daemon);
  connect(retry_, &QPushButton::clicked, this, [this] { model_.retry_soon(0); });
  for (auto signal : {&DaemonModel::link_changed, &DaemonModel::paths_changed, &DaemonModel::status_changed})
    connect(&model_, signal, this, &StatusBanner::sync);
  sync();
}

void StatusBanner::sync() {
  const auto v = judge_tray_state(model_.link(), model_.link_problem(), model_.status(), model_.paths());
  icon_->setPixmap(icons::pixmap(state_icon_name(v.state), 36, devicePixelRatioF()));
  headline_->setText(v.headline);
  const bool down = v.state == TrayState::disconnected;
  QString detail = v.detail;
  if (down) {
    detail = tr("%1. Retrying every %2 s.").arg(v.detail).arg(DaemonModel::kRetryMs / 1000);
    if (!launch_note_.isEmpty()) detail += QLatin1Char('\n') + launch_note_;
  } else if (model_.link() == DaemonLink::reachable) {
    launch_note_.clear();
    const auto& s = model_.status();
    const QString where = tr("braid %1, control API %2").arg(s.version, model_.target().address());
    detail = detail.isEmpty() ? where : detail + QStringLiteral("\n") + where;
  }
  detail_->setText(detail);
  start_->setVisible(down && model_.link() != DaemonLink::connecting);
  retry_->setVisible(model_.link() == DaemonLink::unreachable || model_.link() == DaemonLink::rejected);
}

void StatusBanner::start_daemon() {
  QString error;
  if (DaemonLauncher::start(model_.locate_options().config_path, &error)) {
    launch_note_ = tr("Started `braid up`; connecting…");
    model_.retry_soon(700);
  } else {
    launch_note_ = error;
  }
  sync();
}

void StatusBanner::set_tray_notice(const QString& notice) {
  tray_notice_->setText(notice);
  tray_notice_->setVisible(!notice.isEmpty());
}

QString StatusBanner::headline() const { return headline_->text(); }
QString StatusBanner::detail() const { return detail_->text(); }

}  // namespace braid::gui
