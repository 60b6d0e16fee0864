// One colour per path, shared by its card and its layer in the chart: the
// kind decides the hue (Wi-Fi blue, cellular orange, Ethernet green, other
// purple, as in the kind icons), a second path of the same kind gets a
// darker shade, so two Wi-Fi adapters stay apart.
#pragma once

#include <QColor>
#include <QList>
#include <QString>

#include "gui/path_info.hpp"

namespace braid::gui {

QColor kind_color(const QString& kind);
/// The colour of @p name among @p paths (grey for a path no longer listed).
QColor path_color(const QList<PathInfo>& paths, const QString& name);

}  // namespace braid::gui
