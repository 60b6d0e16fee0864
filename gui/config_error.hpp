// The daemon rejects a config with 400 {"error": "concentrator.token: the
// token must be 1 to 255 bytes long"} (core/config/config.cpp): the text
// before the first ": " names the field, or several ("socks, http, mixed: at
// least one listener is needed"). This splits such a message so the settings
// page can put it next to the right field.
#pragma once

#include <QString>
#include <QStringList>

namespace braid::gui {

struct ConfigError {
  QStringList fields;  ///< "concentrator.token", "socks"...; empty when none is named
  QString message;     ///< the rest, or the whole text when no field is named
};

ConfigError split_config_error(const QString& error);

}  // namespace braid::gui
