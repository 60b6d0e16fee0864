// gui/tray_state: which icon the user sees for what the daemon reports.
#include <QtTest>

#include "gui/tray_state.hpp"

using namespace braid::gui;

namespace {

PathInfo path(const QString& name, const QString& state, const QString& policy) {
  PathInfo p;
  p.name = name;
  p.state = state;
  p.policy = policy;
  return p;
}

DaemonStatus healthy() {
  DaemonStatus s;
  s.path_control_available = true;
  s.mptcp_available = true;
  return s;
}

}  // namespace

class TrayStateTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void no_daemon_is_disconnected() {
    const auto v = judge_tray_state(DaemonLink::unreachable, QStringLiteral("nothing listens"), {}, {});
    QCOMPARE(v.state, TrayState::disconnected);
    QVERIFY(v.detail.contains(QStringLiteral("nothing listens")));
  }

  void a_refused_token_is_an_error() {
    QCOMPARE(judge_tray_state(DaemonLink::rejected, QStringLiteral("401"), {}, {}).state, TrayState::error);
  }

  void two_paths_on_and_up_are_bonded() {
    const auto v = judge_tray_state(DaemonLink::reachable, {}, healthy(),
                                    {path("wifi0", "up", "on"), path("cell0", "up", "on")});
    QCOMPARE(v.state, TrayState::bonded);
    QVERIFY(v.headline.contains(QStringLiteral("wifi0")));
  }

  void one_path_on_is_single_even_with_others_off() {
    const auto v = judge_tray_state(DaemonLink::reachable, {}, healthy(),
                                    {path("wifi0", "up", "on"), path("cell0", "off", "off")});
    QCOMPARE(v.state, TrayState::single);
  }

  void a_down_path_is_degraded() {
    const auto v = judge_tray_state(DaemonLink::reachable, {}, healthy(),
                                    {path("wifi0", "up", "on"), path("cell0", "down", "on")});
    QCOMPARE(v.state, TrayState::degraded);
    QVERIFY(v.detail.contains(QStringLiteral("cell0")));
  }

  void no_path_control_is_degraded_and_says_why() {
    DaemonStatus s = healthy();
    s.path_control_available = false;
    s.path_control_reason = QStringLiteral("path control needs CAP_NET_ADMIN");
    const auto v = judge_tray_state(DaemonLink::reachable, {}, s, {path("wifi0", "up", "on"), path("cell0", "up", "on")});
    QCOMPARE(v.state, TrayState::degraded);
    QVERIFY(v.detail.contains(QStringLiteral("CAP_NET_ADMIN")));
  }

  void only_backups_left_is_degraded() {
    QCOMPARE(judge_tray_state(DaemonLink::reachable, {}, healthy(), {path("cell0", "standby", "backup")}).state,
             TrayState::degraded);
  }

  void nothing_usable_is_an_error() {
    QCOMPARE(judge_tray_state(DaemonLink::reachable, {}, healthy(), {}).state, TrayState::error);
    QCOMPARE(judge_tray_state(DaemonLink::reachable, {}, healthy(), {path("wifi0", "off", "off")}).state,
             TrayState::error);
  }

  void icons_are_named_after_states() {
    QCOMPARE(state_icon_name(TrayState::bonded), QStringLiteral("tray-bonded"));
    QCOMPARE(state_icon_name(TrayState::disconnected), QStringLiteral("tray-disconnected"));
  }
};

QTEST_APPLESS_MAIN(TrayStateTest)
#include "tray_state_test.moc"
