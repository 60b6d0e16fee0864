#include "gui/path_info.hpp"

#include <QJsonArray>

namespace braid::gui {

namespace {
quint64 to_u64(const QJsonValue& v) { return static_cast<quint64>(v.toDouble()); }
}  // namespace

ByteCounters ByteCounters::from_json(const QJsonObject& j) {
  return {to_u64(j.value(QStringLiteral("up"))), to_u64(j.value(QStringLiteral("down")))};
}

PathInfo PathInfo::from_json(const QJsonObject& j) {
  PathInfo p;
  p.name = j.value(QStringLiteral("name")).toString();
  p.kind = j.value(QStringLiteral("kind")).toString(QStringLiteral("other"));
  p.state = j.value(QStringLiteral("state")).toString();
  p.policy = j.value(QStringLiteral("policy")).toString();
  for (const auto& a : j.value(QStringLiteral("addresses")).toArray()) p.addresses.append(a.toString());
  p.link_up = j.value(QStringLiteral("link_up")).toBool();
  p.has_route = j.value(QStringLiteral("has_route")).toBool();
  p.session = ByteCounters::from_json(j.value(QStringLiteral("session")).toObject());
  p.total = ByteCounters::from_json(j.value(QStringLiteral("total")).toObject());
  const auto rate = j.value(QStringLiteral("rate_1s")).toObject();
  p.up_bps = rate.value(QStringLiteral("up_bps")).toDouble();
  p.down_bps = rate.value(QStringLiteral("down_bps")).toDouble();
  p.rtt_ms = j.value(QStringLiteral("rtt_ms")).toDouble();
  p.subflows = j.value(QStringLiteral("subflows")).toInt();
  return p;
}

void PathInfo::apply_traffic(const QJsonObject& j) {
  up_bps = j.value(QStringLiteral("up_bps")).toDouble();
  down_bps = j.value(QStringLiteral("down_bps")).toDouble();
  session = ByteCounters::from_json(j.value(QStringLiteral("session")).toObject());
  total = ByteCounters::from_json(j.value(QStringLiteral("total")).toObject());
  rtt_ms = j.value(QStringLiteral("rtt_ms")).toDouble();
  subflows = j.value(QStringLiteral("subflows")).toInt();
  if (j.contains(QStringLiteral("state"))) state = j.value(QStringLiteral("state")).toString();
  if (j.contains(QStringLiteral("policy"))) policy = j.value(QStringLiteral("policy")).toString();
}

QString kind_label(const QString& kind) {
  if (kind == QLatin1String("wifi")) return QStringLiteral("Wi-Fi");
  if (kind == QLatin1String("cellular")) return QStringLiteral("Cellular");
  if (kind == QLatin1String("ethernet")) return QStringLiteral("Ethernet");
  return QStringLiteral("Other");
}

}  // namespace braid::gui
