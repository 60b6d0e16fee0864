// gui/api_target: the API address and token found as the CLI finds them.
#include <QtTest>

#include "gui/api_target.hpp"

using namespace braid::gui;

class ApiTargetTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    qputenv("XDG_CONFIG_HOME", (dir_.path() + "/config").toUtf8());
    qputenv("XDG_STATE_HOME", (dir_.path() + "/state").toUtf8());
  }

  void defaults_without_a_config() {
    const auto t = ApiTarget::locate({});
    QCOMPARE(t.address(), QStringLiteral("127.0.0.1:7310"));
    QCOMPARE(t.token_file, dir_.path() + "/state/braid/api-token");
    QCOMPARE(t.config_path, dir_.path() + "/config/braid/braid.json");
    QVERIFY(t.problem.isEmpty());
  }

  void the_config_names_listen_and_token_file() {
    const QString cfg = dir_.path() + "/custom.json";
    QFile f(cfg);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(R"({"control": {"listen": "[::1]:9999", "token_file": "/run/braid/token"}, "socks": "127.0.0.1:1"})");
    f.close();
    const auto t = ApiTarget::locate({cfg, {}, {}});
    QCOMPARE(t.host, QStringLiteral("::1"));
    QCOMPARE(t.port, quint16(9999));
    QCOMPARE(t.address(), QStringLiteral("[::1]:9999"));
    QCOMPARE(t.url(QStringLiteral("/v1/status")).toString(), QStringLiteral("http://[::1]:9999/v1/status"));
    QCOMPARE(t.token_file, QStringLiteral("/run/braid/token"));
  }

  void control_null_turns_the_api_off() {
    const QString cfg = dir_.path() + "/off.json";
    QFile f(cfg);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(R"({"control": null})");
    f.close();
    const auto t = ApiTarget::locate({cfg, {}, {}});
    QVERIFY(!t.enabled);
    QVERIFY(t.problem.contains(QStringLiteral("control")));
  }

  void command_line_wins() {
    const auto t = ApiTarget::locate({{}, QStringLiteral("127.0.0.2:1234"), QStringLiteral("/tmp/tok")});
    QCOMPARE(t.address(), QStringLiteral("127.0.0.2:1234"));
    QCOMPARE(t.token_file, QStringLiteral("/tmp/tok"));
  }

  void token_is_read_trimmed() {
    const QString tok = dir_.path() + "/token";
    QFile f(tok);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("abc123\n");
    f.close();
    QString error;
    QCOMPARE(ApiTarget::locate({{}, {}, tok}).read_token(&error), QByteArray("abc123"));
    QVERIFY(error.isEmpty());
    ApiTarget::locate({{}, {}, dir_.path() + "/missing"}).read_token(&error);
    QVERIFY(error.contains(QStringLiteral("missing")));
  }

 private:
  QTemporaryDir dir_;
};

QTEST_GUILESS_MAIN(ApiTargetTest)
#include "api_target_test.moc"
