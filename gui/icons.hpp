// Braid's SVG icons (assets/icons, compiled into the binary), rendered with
// QSvgRenderer at the size and pixel ratio asked, so they stay sharp at any
// scale without depending on an icon-engine plugin.
#pragma once

#include <QIcon>
#include <QPixmap>
#include <QString>

namespace braid::gui::icons {

/// The resource for a name: "wifi" -> ":/icons/wifi.svg".
QString resource_path(const QString& name);
/// One rendering, @p size in device-independent pixels.
QPixmap pixmap(const QString& name, int size, qreal device_pixel_ratio = 1.0);
/// An icon with the usual tray and menu sizes.
QIcon icon(const QString& name);
/// The path-kind icon name ("wifi", "cellular", "ethernet", "other").
QString kind_icon_name(const QString& kind);

}  // namespace braid::gui::icons
