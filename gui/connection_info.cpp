#include "gui/connection_info.hpp"

namespace braid::gui {

ConnectionInfo ConnectionInfo::from_json(const QJsonObject& j) {
  ConnectionInfo c;
  c.id = static_cast<quint64>(j.value(QStringLiteral("id")).toDouble());
  c.protocol = j.value(QStringLiteral("protocol")).toString();
  c.destination = j.value(QStringLiteral("destination")).toString();
  c.state = j.value(QStringLiteral("state")).toString();
  c.age_s = j.value(QStringLiteral("age_s")).toDouble();
  c.bytes_up = static_cast<quint64>(j.value(QStringLiteral("bytes_up")).toDouble());
  c.bytes_down = static_cast<quint64>(j.value(QStringLiteral("bytes_down")).toDouble());
  c.mptcp = j.value(QStringLiteral("mptcp")).toBool();
  const auto paths = j.value(QStringLiteral("paths")).toObject();
  for (auto it = paths.begin(); it != paths.end(); ++it)
    c.per_path.insert(it.key(), ByteCounters::from_json(it.value().toObject()));
  return c;
}

}  // namespace braid::gui
