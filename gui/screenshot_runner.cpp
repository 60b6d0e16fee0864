#include "gui/screenshot_runner.hpp"

#include <algorithm>

#include <QAction>
#include <QApplication>
#include <QDir>
#include <QFileInfo>
#include <QMenu>
#include <QPainter>
#include <QScreen>
#include <QSystemTrayIcon>
#include <QTimer>

#include "gui/dashboard_window.hpp"
#include "gui/tray.hpp"

namespace braid::gui {

namespace {
// Long enough for a popup to be mapped and painted by the X server.
constexpr int kMenuSettleMs = 800;
}  // namespace

ScreenshotRunner::ScreenshotRunner(QList<Screenshot> shots, DashboardWindow& window, Tray& tray, QObject* parent)
    : QObject(parent), shots_(std::move(shots)), window_(window), tray_(tray) {}

Screenshot ScreenshotRunner::parse(Screenshot::Kind kind, const QString& spec, double default_seconds) {
  Screenshot s{kind, spec, default_seconds};
  const auto at = spec.lastIndexOf(QLatin1Char('@'));
  bool ok = false;
  const double seconds = at > 0 ? spec.mid(at + 1).toDouble(&ok) : 0;
  if (ok) {
    s.png = spec.left(at);
    s.at_seconds = seconds;
  }
  return s;
}

void ScreenshotRunner::start() {
  pending_ = static_cast<int>(shots_.size());
  for (const auto& shot : shots_)
    QTimer::singleShot(static_cast<int>(shot.at_seconds * 1000), this, [this, shot] { take(shot); });
}

bool ScreenshotRunner::save(const QImage& image, const QString& path) {
  QDir().mkpath(QFileInfo(path).absolutePath());
  if (image.isNull() || !image.save(path)) {
    qWarning("braid-gui: cannot write %s", qPrintable(path));
    ++failures_;
    return false;
  }
  qInfo("braid-gui: wrote %s", qPrintable(path));
  return true;
}

void ScreenshotRunner::one_done() {
  if (--pending_ == 0) QApplication::exit(failures_ ? 1 : 0);
}

void ScreenshotRunner::take(const Screenshot& shot) {
  if (shot.kind == Screenshot::Kind::dashboard) {
    save(window_.grab().toImage(), shot.png);
    return one_done();
  }
  open_tray_menu(shot);
}

void ScreenshotRunner::open_tray_menu(const Screenshot& shot) {
  tray_.rebuild_menu_now();
  QSystemTrayIcon* icon = tray_.icon();
  const QRect at = icon->isVisible() ? icon->geometry() : QRect();
  if (at.isEmpty()) {
    save_sketched_tray_menu(shot);
    return one_done();
  }
  // The menu over the desktop, not over our own window.
  restore_window_ = window_.isVisible();
  window_.hide();
  // Open the menu under the icon, as a click would, and its policy submenu
  // to the left (the icon sits at the screen's right edge).
  QMenu* menu = tray_.menu();
  const QRect screen = QApplication::primaryScreen()->geometry();
  const QSize menu_size = menu->sizeHint();
  const QPoint menu_at(std::clamp(at.right() - menu_size.width(), 0, screen.width() - menu_size.width()),
                       at.bottom() + 2);
  menu->popup(menu_at);
  if (auto* sub = menu->findChild<QMenu*>(QStringLiteral("policy-menu"))) {
    menu->setActiveAction(sub->menuAction());
    const QRect item = menu->actionGeometry(sub->menuAction());
    sub->popup(QPoint(menu_at.x() - sub->sizeHint().width() + 2, menu_at.y() + item.top()));
  }
  QTimer::singleShot(kMenuSettleMs, this, [this, shot] { grab_tray_menu(shot); });
}

void ScreenshotRunner::grab_tray_menu(const Screenshot& shot) {
  QMenu* menu = tray_.menu();
  QRect area = tray_.icon()->geometry().united(menu->geometry());
  QMenu* sub = menu->findChild<QMenu*>(QStringLiteral("policy-menu"));
  if (sub && sub->isVisible()) area = area.united(sub->geometry());
  // The panel strip to the icon's left belongs in the picture too.
  area.setTop(0);
  area = area.adjusted(-12, 0, 12, 12).intersected(QApplication::primaryScreen()->geometry());
  const QPixmap pixels = QApplication::primaryScreen()->grabWindow(0, area.x(), area.y(), area.width(), area.height());
  save(pixels.toImage(), shot.png);
  if (sub) sub->hide();
  menu->hide();
  if (restore_window_) window_.present();
  one_done();
}

bool ScreenshotRunner::save_sketched_tray_menu(const Screenshot& shot) {
  QMenu* menu = tray_.menu();
  menu->popup(QPoint(400, 40));
  QMenu* sub = menu->findChild<QMenu*>(QStringLiteral("policy-menu"));
  QPixmap sub_shot;
  if (sub) {
    menu->setActiveAction(sub->menuAction());
    sub->popup(QPoint(40, 40));
    QApplication::processEvents();
    sub_shot = sub->grab();
  }
  QApplication::processEvents();
  const QPixmap menu_shot = menu->grab();
  const QRect item = sub ? menu->actionGeometry(sub->menuAction()) : QRect();
  if (sub) sub->hide();
  menu->hide();

  // A panel strip with the tray icon at its right end, the menu under the
  // icon, the submenu opening to the left as it does at a screen's right edge.
  const int panel_h = 30, gap = 2, margin = 12, icon_px = 22;
  const int sub_w = sub_shot.isNull() ? 0 : sub_shot.width() - 2;
  const int w = margin + sub_w + menu_shot.width() + margin;
  const int h = panel_h + gap + std::max(menu_shot.height(), sub_shot.isNull() ? 0 : item.top() + sub_shot.height()) + margin;
  QImage out(w, h, QImage::Format_ARGB32);
  out.fill(QColor(0xdd, 0xe1, 0xe6));
  QPainter p(&out);
  p.setRenderHint(QPainter::Antialiasing);
  p.fillRect(0, 0, w, panel_h, QColor(0x26, 0x2a, 0x31));
  const int icon_x = w - margin - icon_px - 40;
  p.fillRect(icon_x - 5, 0, icon_px + 10, panel_h, QColor(0x45, 0x4b, 0x55));
  p.drawPixmap(icon_x, (panel_h - icon_px) / 2, tray_.icon()->icon().pixmap(icon_px, icon_px));
  p.setPen(QColor(0xe8, 0xea, 0xed));
  p.drawText(QRect(w - margin - 40, 0, 40, panel_h), Qt::AlignVCenter | Qt::AlignRight, QStringLiteral("12:00"));
  const int menu_x = w - margin - menu_shot.width();
  p.drawPixmap(menu_x, panel_h + gap, menu_shot);
  if (!sub_shot.isNull()) p.drawPixmap(menu_x - sub_shot.width() + 2, panel_h + gap + item.top(), sub_shot);
  p.end();
  return save(out, shot.png);
}

}  // namespace braid::gui
