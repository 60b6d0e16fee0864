// gui/human_units: what the cards, tooltip and chart axis print.
#include <QtTest>

#include "gui/human_units.hpp"

namespace units = braid::gui::units;

class HumanUnitsTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void rates_use_bits_and_si_prefixes() {
    QCOMPARE(units::rate(0), QStringLiteral("0 bit/s"));
    QCOMPARE(units::rate(850), QStringLiteral("850 bit/s"));
    QCOMPARE(units::rate(12345), QStringLiteral("12.3 kbit/s"));
    QCOMPARE(units::rate(18665856.0), QStringLiteral("18.7 Mbit/s"));
    QCOMPARE(units::rate(1.05e9), QStringLiteral("1.05 Gbit/s"));
  }

  void sizes_are_decimal_bytes() {
    QCOMPARE(units::bytes(0), QStringLiteral("0 B"));
    QCOMPARE(units::bytes(999), QStringLiteral("999 B"));
    QCOMPARE(units::bytes(17067082), QStringLiteral("17.1 MB"));
    QCOMPARE(units::bytes(1200000000ull), QStringLiteral("1.20 GB"));
  }

  void durations_read_naturally() {
    QCOMPARE(units::duration(4.2), QStringLiteral("4 s"));
    QCOMPARE(units::duration(125), QStringLiteral("2 min 05 s"));
    QCOMPARE(units::duration(3780), QStringLiteral("1 h 03 min"));
    QCOMPARE(units::duration(2 * 86400 + 4 * 3600), QStringLiteral("2 d 4 h"));
  }

  void rtt() {
    QCOMPARE(units::milliseconds(0), QStringLiteral("–"));
    QCOMPARE(units::milliseconds(0.45), QStringLiteral("0.45 ms"));
    QCOMPARE(units::milliseconds(180), QStringLiteral("180 ms"));
  }

  void axis_scale_and_top() {
    QCOMPARE(units::rate_scale(500).unit, QStringLiteral("bit/s"));
    QCOMPARE(units::rate_scale(40e6).unit, QStringLiteral("Mbit/s"));
    QCOMPARE(units::rate_scale(40e6).divisor, 1e6);
    QCOMPARE(units::nice_ceiling(37), 50.0);
    QCOMPARE(units::nice_ceiling(2.2), 2.5);
    QCOMPARE(units::nice_ceiling(100), 100.0);
    QCOMPARE(units::nice_ceiling(0), 1.0);
  }
};

QTEST_APPLESS_MAIN(HumanUnitsTest)
#include "human_units_test.moc"
