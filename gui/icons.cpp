#include "gui/icons.hpp"

#include <QFile>
#include <QPainter>
#include <QSvgRenderer>

// The resources live in a static library; this makes sure they are linked.
static void init_braid_gui_resources() { Q_INIT_RESOURCE(braid_gui); }

namespace braid::gui::icons {

QString resource_path(const QString& name) { return QStringLiteral(":/icons/") + name + QStringLiteral(".svg"); }

QPixmap pixmap(const QString& name, int size, qreal dpr) {
  static const bool initialised = (init_braid_gui_resources(), true);
  (void)initialised;
  const int px = qRound(size * dpr);
  QPixmap out(px, px);
  out.fill(Qt::transparent);
  QSvgRenderer renderer(resource_path(name));
  if (renderer.isValid()) {
    QPainter painter(&out);
    painter.setRenderHint(QPainter::Antialiasing);
    renderer.render(&painter);
  }
  out.setDevicePixelRatio(dpr);
  return out;
}

QIcon icon(const QString& name) {
  QIcon i;
  for (int size : {16, 22, 24, 32, 48, 64, 128}) i.addPixmap(pixmap(name, size));
  return i;
}

QString kind_icon_name(const QString& kind) {
  if (kind == QLatin1String("wifi") || kind == QLatin1String("cellular") || kind == QLatin1String("ethernet"))
    return kind;
  return QStringLiteral("other");
}

}  // namespace braid::gui::icons
