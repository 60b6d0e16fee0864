#include "gui/config_error.hpp"

#include <QRegularExpression>

namespace braid::gui {

ConfigError split_config_error(const QString& error) {
  // A field path: identifiers joined by dots, maybe with [n] indexes.
  static const QRegularExpression field(QStringLiteral(R"(^[A-Za-z_][A-Za-z0-9_\-]*(\.[A-Za-z0-9_\-]+|\[\d+\])*$)"));
  const auto colon = error.indexOf(QStringLiteral(": "));
  if (colon <= 0) return {{}, error};
  QStringList fields;
  for (const auto& part : error.left(colon).split(QLatin1Char(','))) {
    const QString f = part.trimmed();
    if (!field.match(f).hasMatch()) return {{}, error};
    fields.append(f);
  }
  return {fields, error.mid(colon + 2)};
}

}  // namespace braid::gui
