#include "gui/human_units.hpp"

#include <algorithm>
#include <cmath>

namespace braid::gui::units {

namespace {

// Three significant digits without trailing noise: 3.45, 34.5, 345.
QString three_digits(double v) {
  const int decimals = v < 10 ? 2 : v < 100 ? 1 : 0;
  return QString::number(v, 'f', decimals);
}

}  // namespace

RateScale rate_scale(double max_bps) {
  if (max_bps >= 1e9) return {1e9, QStringLiteral("Gbit/s")};
  if (max_bps >= 1e6) return {1e6, QStringLiteral("Mbit/s")};
  if (max_bps >= 1e3) return {1e3, QStringLiteral("kbit/s")};
  return {1, QStringLiteral("bit/s")};
}

QString rate(double bps) {
  if (!(bps > 0)) return QStringLiteral("0 bit/s");
  const auto s = rate_scale(bps);
  if (s.divisor == 1) return QStringLiteral("%1 bit/s").arg(std::llround(bps));
  return three_digits(bps / s.divisor) + QLatin1Char(' ') + s.unit;
}

QString bytes(quint64 n) {
  if (n < 1000) return QStringLiteral("%1 B").arg(n);
  static const char* const kUnits[] = {"kB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(n) / 1000;
  int i = 0;
  while (v >= 1000 && i < 4) {
    v /= 1000;
    ++i;
  }
  return three_digits(v) + QLatin1Char(' ') + QLatin1String(kUnits[i]);
}

QString duration(double seconds) {
  const auto s = static_cast<qint64>(std::max(0.0, seconds));
  if (s < 60) return QStringLiteral("%1 s").arg(s);
  if (s < 3600) return QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
  if (s < 86400) return QStringLiteral("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60, 2, 10, QLatin1Char('0'));
  return QStringLiteral("%1 d %2 h").arg(s / 86400).arg((s % 86400) / 3600);
}

QString milliseconds(double ms) {
  if (!(ms > 0)) return QStringLiteral("–");
  return three_digits(ms) + QStringLiteral(" ms");
}

double nice_ceiling(double value) {
  if (!(value > 0)) return 1;
  const double magnitude = std::pow(10.0, std::floor(std::log10(value)));
  for (double step : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (step * magnitude >= value * (1 - 1e-9)) return step * magnitude;
  return 10 * magnitude;
}

}  // namespace braid::gui::units
