// Numbers as a person reads them: rates in bit/s with SI prefixes (what ISPs
// and speed tests use), sizes in decimal bytes, ages in s / min / h.
#pragma once

#include <QString>

namespace braid::gui::units {

/// "0 bit/s", "850 bit/s", "12.3 kbit/s", "48.2 Mbit/s", "1.05 Gbit/s".
QString rate(double bits_per_second);
/// "0 B", "980 B", "16.3 MB", "1.20 GB".
QString bytes(quint64 n);
/// "4 s", "2 min 05 s", "1 h 03 min", "2 d 4 h".
QString duration(double seconds);
/// "0.45 ms", "12.3 ms", "180 ms"; "–" when unknown (0).
QString milliseconds(double ms);

/// A unit for a chart axis that shows rates up to some maximum.
struct RateScale {
  double divisor = 1;    ///< bits per second per unit
  QString unit;          ///< "bit/s", "kbit/s", "Mbit/s", "Gbit/s"
};
RateScale rate_scale(double max_bits_per_second);

/// The smallest of 1, 2, 2.5, 5 × 10^n that is >= @p value (an axis top).
double nice_ceiling(double value);

}  // namespace braid::gui::units
