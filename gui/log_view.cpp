#include "gui/log_view.hpp"

#include <QCheckBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QVBoxLayout>

#include "gui/daemon_model.hpp"

namespace braid::gui {

LogView::LogView(DaemonModel& model, QWidget* parent)
    : QWidget(parent),
      model_(model),
      text_(new QPlainTextEdit(this)),
      follow_(new QCheckBox(tr("Follow"), this)),
      status_(new QLabel(this)) {
  text_->setReadOnly(true);
  text_->setLineWrapMode(QPlainTextEdit::NoWrap);
  text_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  text_->setObjectName(QStringLiteral("log"));
  follow_->setChecked(true);
  auto* refresh_button = new QPushButton(tr("Refresh"), this);
  connect(refresh_button, &QPushButton::clicked, this, &LogView::refresh);

  auto* bar = new QHBoxLayout;
  bar->addWidget(status_, 1);
  bar->addWidget(follow_);
  bar->addWidget(refresh_button);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(bar);
  layout->addWidget(text_, 1);

  timer_.setInterval(kRefreshMs);
  connect(&timer_, &QTimer::timeout, this, &LogView::refresh);
  connect(&model_, &DaemonModel::link_changed, this, [this] {
    if (model_.link() == DaemonLink::reachable && isVisible()) refresh();
  });
}

void LogView::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  refresh();
  timer_.start();
}

void LogView::hideEvent(QHideEvent* event) {
  QWidget::hideEvent(event);
  timer_.stop();
}

void LogView::refresh() {
  if (in_flight_) return;
  if (model_.link() != DaemonLink::reachable) {
    status_->setText(tr("The log is read from the daemon, which is not reachable: %1").arg(model_.link_problem()));
    return;
  }
  in_flight_ = true;
  model_.api().get(QStringLiteral("/v1/logs?lines=%1").arg(kLines), this, [this](const ApiResult& r) {
    in_flight_ = false;
    if (!r.ok()) {
      status_->setText(tr("Cannot read the log: %1").arg(r.error));
      return;
    }
    QStringList lines;
    for (const auto& v : r.body.object().value(QStringLiteral("lines")).toArray()) lines.append(v.toString());
    status_->setText(tr("The daemon's last %1 log lines.").arg(kLines));
    if (lines == shown_) return;
    shown_ = lines;
    auto* bar = text_->verticalScrollBar();
    const int keep = bar->value();
    text_->setPlainText(lines.join(QLatin1Char('\n')));
    if (follow_->isChecked()) bar->setValue(bar->maximum());
    else bar->setValue(keep);
  });
}

QString LogView::text() const { return text_->toPlainText(); }

}  // namespace braid::gui
