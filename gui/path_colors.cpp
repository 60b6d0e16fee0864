#include "gui/path_colors.hpp"

namespace braid::gui {

QColor kind_color(const QString& kind) {
  if (kind == QLatin1String("wifi")) return QColor(0x1f, 0x77, 0xb4);
  if (kind == QLatin1String("cellular")) return QColor(0xe8, 0x71, 0x0a);
  if (kind == QLatin1String("ethernet")) return QColor(0x2c, 0xa0, 0x2c);
  return QColor(0x7b, 0x52, 0xab);
}

QColor path_color(const QList<PathInfo>& paths, const QString& name) {
  const PathInfo* self = nullptr;
  for (const auto& p : paths)
    if (p.name == name) self = &p;
  if (!self) return QColor(0x90, 0x90, 0x90);
  int same_kind_before = 0;
  for (const auto& p : paths) {
    if (&p == self) break;
    if (p.kind == self->kind) ++same_kind_before;
  }
  const QColor base = kind_color(self->kind);
  return same_kind_before == 0 ? base : base.darker(100 + 35 * same_kind_before);
}

}  // namespace braid::gui
