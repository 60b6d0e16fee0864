// gui/config_error: the daemon's 400 messages, split into field and words.
#include <QtTest>

#include "gui/config_error.hpp"

using braid::gui::split_config_error;

class ConfigErrorTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void one_field() {
    const auto e = split_config_error(QStringLiteral("concentrator.token: the token must be 1 to 255 bytes long"));
    QCOMPARE(e.fields, QStringList{QStringLiteral("concentrator.token")});
    QCOMPARE(e.message, QStringLiteral("the token must be 1 to 255 bytes long"));
  }

  void several_fields() {
    const auto e = split_config_error(QStringLiteral("socks, http, mixed: at least one listener is needed"));
    QCOMPARE(e.fields, (QStringList{QStringLiteral("socks"), QStringLiteral("http"), QStringLiteral("mixed")}));
  }

  void an_address_message_keeps_its_own_colons() {
    const auto e = split_config_error(
        QStringLiteral("socks: expected HOST:PORT (for example \"127.0.0.1:1080\"), got \"x\""));
    QCOMPARE(e.fields, QStringList{QStringLiteral("socks")});
    QVERIFY(e.message.startsWith(QStringLiteral("expected HOST:PORT")));
  }

  void no_field_named() {
    const auto e = split_config_error(QStringLiteral("not valid JSON: [json.exception.parse_error.101] at line 1"));
    QVERIFY(e.fields.isEmpty());
    QVERIFY(e.message.startsWith(QStringLiteral("not valid JSON")));
  }
};

QTEST_APPLESS_MAIN(ConfigErrorTest)
#include "config_error_test.moc"
