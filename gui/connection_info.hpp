// One proxied connection as GET /v1/connections lists it.
#pragma once

#include <QJsonObject>
#include <QMap>
#include <QString>

#include "gui/path_info.hpp"

namespace braid::gui {

struct ConnectionInfo {
  quint64 id = 0;
  QString protocol;     ///< socks5, http, ...
  QString destination;  ///< host:port as the application asked
  QString state;
  double age_s = 0;
  quint64 bytes_up = 0;
  quint64 bytes_down = 0;
  bool mptcp = false;
  QMap<QString, ByteCounters> per_path;  ///< by path name

  static ConnectionInfo from_json(const QJsonObject& j);
};

}  // namespace braid::gui
