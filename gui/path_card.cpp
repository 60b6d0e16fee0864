#include "gui/path_card.hpp"

#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include "gui/human_units.hpp"
#include "gui/icons.hpp"
#include "gui/policy_switch.hpp"

namespace braid::gui {

namespace {

QString state_colour(const QString& state) {
  if (state == QLatin1String("up")) return QStringLiteral("#2e9d4f");
  if (state == QLatin1String("standby")) return QStringLiteral("#2f6fb3");
  if (state == QLatin1String("down")) return QStringLiteral("#cf2e2e");
  return QStringLiteral("#7a7f86");
}

QString state_words(const QString& state) {
  if (state == QLatin1String("up")) return QObject::tr("up");
  if (state == QLatin1String("standby")) return QObject::tr("standby (backup)");
  if (state == QLatin1String("down")) return QObject::tr("down");
  if (state == QLatin1String("off")) return QObject::tr("switched off");
  return state;
}

QLabel* value_label(QWidget* parent) {
  auto* l = new QLabel(parent);
  l->setTextInteractionFlags(Qt::TextSelectableByMouse);
  return l;
}

}  // namespace

PathCard::PathCard(const QString& name, QWidget* parent)
    : QFrame(parent),
      name_(name),
      icon_(new QLabel(this)),
      title_(new QLabel(name, this)),
      subtitle_(new QLabel(this)),
      state_(new QLabel(this)),
      switch_(new PolicySwitch(this)),
      note_(new QLabel(this)),
      down_rate_(value_label(this)),
      up_rate_(value_label(this)),
      rtt_(value_label(this)),
      session_(value_label(this)),
      total_(value_label(this)) {
  setObjectName(QStringLiteral("PathCard"));
  setProperty("path", name);
  setFrameShape(QFrame::StyledPanel);
  setMinimumWidth(300);
  setMaximumWidth(380);
  setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Maximum);

  QFont title_font = title_->font();
  title_font.setPointSizeF(title_font.pointSizeF() * 1.25);
  title_font.setBold(true);
  title_->setFont(title_font);
  subtitle_->setStyleSheet(QStringLiteral("color: palette(mid);"));
  state_->setObjectName(QStringLiteral("state"));
  note_->setWordWrap(true);
  note_->hide();

  auto* head = new QHBoxLayout;
  head->addWidget(icon_, 0, Qt::AlignTop);
  auto* names = new QVBoxLayout;
  names->setSpacing(0);
  names->addWidget(title_);
  names->addWidget(subtitle_);
  head->addLayout(names, 1);
  head->addWidget(state_, 0, Qt::AlignTop | Qt::AlignRight);

  QFont big = down_rate_->font();
  big.setPointSizeF(big.pointSizeF() * 1.15);
  big.setBold(true);
  down_rate_->setFont(big);
  up_rate_->setFont(big);

  auto* grid = new QGridLayout;
  grid->setHorizontalSpacing(12);
  grid->setVerticalSpacing(3);
  int row = 0;
  grid->addWidget(new QLabel(tr("Download"), this), row, 0);
  grid->addWidget(down_rate_, row++, 1);
  grid->addWidget(new QLabel(tr("Upload"), this), row, 0);
  grid->addWidget(up_rate_, row++, 1);
  grid->addWidget(new QLabel(tr("RTT"), this), row, 0);
  grid->addWidget(rtt_, row++, 1);
  grid->addWidget(new QLabel(tr("This session"), this), row, 0);
  grid->addWidget(session_, row++, 1);
  grid->addWidget(new QLabel(tr("Total"), this), row, 0);
  grid->addWidget(total_, row++, 1);
  grid->setColumnStretch(1, 1);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(14, 10, 12, 10);
  layout->addLayout(head);
  layout->addWidget(switch_);
  layout->addWidget(note_);
  layout->addLayout(grid);

  connect(switch_, &PolicySwitch::policy_chosen, this, [this](const QString& p) { emit policy_chosen(name_, p); });
}

void PathCard::show_path(const PathInfo& p, const QColor& color, const QString& pending, const QString& error) {
  if (p.kind != kind_) {
    kind_ = p.kind;
    icon_->setPixmap(icons::pixmap(icons::kind_icon_name(p.kind), 40, devicePixelRatioF()));
  }
  // A stripe in the path's chart colour ties the card to its layer.
  setStyleSheet(QStringLiteral("QFrame#PathCard { border: 1px solid palette(mid); border-left: 6px solid %1;"
                               " border-radius: 6px; background: palette(base); }")
                    .arg(color.name()));
  QString where = kind_label(p.kind);
  if (!p.addresses.isEmpty()) where += QStringLiteral(" · ") + p.addresses.join(QStringLiteral(", "));
  subtitle_->setText(where);
  state_->setText(QStringLiteral("<b style='color:%1'>%2</b>").arg(state_colour(p.state), state_words(p.state)));
  state_->setToolTip(p.state == QLatin1String("down")
                         ? tr("No carrier, address or route (link %1, route %2)")
                               .arg(p.link_up ? tr("up") : tr("down"), p.has_route ? tr("yes") : tr("no"))
                         : QString());
  switch_->show_policy(p.policy);
  switch_->set_pending(!pending.isEmpty());
  if (!error.isEmpty()) {
    note_->setText(QStringLiteral("<span style='color:#cf2e2e'>%1</span>").arg(error.toHtmlEscaped()));
    note_->show();
  } else if (!pending.isEmpty()) {
    note_->setText(tr("Switching to %1…").arg(pending));
    note_->show();
  } else {
    note_->hide();
  }
  show_traffic(p);
}

void PathCard::show_traffic(const PathInfo& p) {
  down_rate_->setText(QStringLiteral("↓ ") + units::rate(p.down_bps));
  up_rate_->setText(QStringLiteral("↑ ") + units::rate(p.up_bps));
  rtt_->setText(p.subflows ? QStringLiteral("%1 · %2 subflow%3")
                                 .arg(units::milliseconds(p.rtt_ms))
                                 .arg(p.subflows)
                                 .arg(p.subflows == 1 ? QString() : QStringLiteral("s"))
                           : units::milliseconds(p.rtt_ms));
  session_->setText(QStringLiteral("↓ %1   ↑ %2").arg(units::bytes(p.session.down), units::bytes(p.session.up)));
  total_->setText(QStringLiteral("↓ %1   ↑ %2").arg(units::bytes(p.total.down), units::bytes(p.total.up)));
}

void PathCard::set_reachable(bool reachable) { setEnabled(reachable); }

QString PathCard::state_text() const { return state_->text(); }

}  // namespace braid::gui
