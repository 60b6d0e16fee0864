// braid-gui against a real `braid up` on loopback: what a user notices.
//  - a card per path the daemon reports, and a tray menu entry for each;
//  - the chart gains points, and a path's layer rises, as traffic flows;
//  - the connection list shows a proxied connection and its Close button ends it;
//  - switching a path on its card or in the tray menu changes the policy the
//    API reports, within a second;
//  - a bad setting is refused with the daemon's words next to the field;
//  - the log tab shows the daemon's log;
//  - a killed daemon shows as unreachable, and starting it again recovers.
// Exits 77 (skipped) when braid is not built or cannot start.
#include <QtTest>

#include <QAction>
#include <QApplication>
#include <QAreaSeries>
#include <QCheckBox>
#include <QComboBox>
#include <QLineEdit>
#include <QLineSeries>
#include <QMenu>
#include <QPushButton>
#include <QTableView>
#include <QToolButton>

#include "gui/connection_table_model.hpp"
#include "gui/connections_view.hpp"
#include "gui/daemon_model.hpp"
#include "gui/dashboard_window.hpp"
#include "gui/log_view.hpp"
#include "gui/overview_page.hpp"
#include "gui/path_card.hpp"
#include "gui/policy_switch.hpp"
#include "gui/settings_page.hpp"
#include "gui/status_banner.hpp"
#include "gui/throughput_chart.hpp"
#include "gui/tray.hpp"
#include "live_braid.hpp"

using namespace braid::gui;

namespace {

QStringList sorted(QStringList l) {
  l.sort();
  return l;
}

double peak_of(QAreaSeries* layer) {
  double peak = 0;
  if (!layer) return 0;
  const auto upper = layer->upperSeries()->points();
  const auto lower = layer->lowerSeries()->points();
  for (int i = 0; i < upper.size() && i < lower.size(); ++i) peak = std::max(peak, upper[i].y() - lower[i].y());
  return peak;
}

}  // namespace

class DashboardLiveTest : public QObject {
  Q_OBJECT
 public:
  LiveBraid braid;

 private Q_SLOTS:
  void initTestCase() {
    QString error;
    QVERIFY2(braid.start_concentrator(&error), qPrintable(error));
    QVERIFY2(braid.start_daemon(&error), qPrintable(error));
    model_ = std::make_unique<DaemonModel>(LocateOptions{braid.config_path, {}, {}});
    window_ = std::make_unique<DashboardWindow>(*model_);
    tray_ = std::make_unique<Tray>(*model_);
    window_->present();
    model_->start();
    QTRY_COMPARE_WITH_TIMEOUT(model_->link(), DaemonLink::reachable, 5000);
  }

  void path_cards_match_the_daemons_paths() {
    const QStringList api = braid.api_path_names();
    qInfo("the daemon reports paths: %s", qPrintable(api.join(QStringLiteral(", "))));
    auto card_names = [this] {
      QStringList names;
      for (auto* c : window_->overview()->findChildren<PathCard*>()) names.append(c->path_name());
      return sorted(names);
    };
    QTRY_COMPARE_WITH_TIMEOUT(card_names(), sorted(api), 2000);
    const auto paths = braid.api_get(QStringLiteral("/v1/paths")).array();
    for (const auto& v : paths) {
      const auto p = v.toObject();
      auto* card = window_->overview()->card(p.value("name").toString());
      QVERIFY(card);
      QVERIFY(card->isVisible());
      QCOMPARE(card->policy_switch()->shown_policy(), p.value("policy").toString());
    }
    if (api.isEmpty()) QSKIP("the daemon reports no paths here (no interface with an address); only the empty list was compared");
  }

  void tray_menu_lists_each_path() {
    tray_->rebuild_menu_now();
    for (const auto& name : braid.api_path_names()) {
      QAction* toggle = tray_->action(QStringLiteral("path-") + name);
      QVERIFY2(toggle, qPrintable(QStringLiteral("no tray menu entry for path %1").arg(name)));
      QVERIFY(toggle->isCheckable());
      for (const char* policy : {"on", "backup", "off"})
        QVERIFY(tray_->action(QStringLiteral("policy-%1-%2").arg(name, QLatin1String(policy))));
    }
    QVERIFY(tray_->action(QStringLiteral("mode-aggregate")));
    QVERIFY(tray_->action(QStringLiteral("open-dashboard")));
    QVERIFY(tray_->action(QStringLiteral("quit")));
    QVERIFY(!tray_->action(QStringLiteral("start-daemon")));  // only offered when no daemon answers
  }

  void chart_gains_points_as_traffic_flows() {
    window_->show_tab(QStringLiteral("overview"));
    ThroughputChart* chart = window_->overview()->chart();
    const QString carrier = path_of_concentrator();
    const int points_before = model_->history().size();

    // ~26 Mbit/s for about six seconds, through braid's SOCKS5 port.
    PacedSource source(64 * 1024, 20, 20 * 1024 * 1024);
    SocksReader reader(braid.socks_port, source.port());
    QTRY_VERIFY_WITH_TIMEOUT(reader.bytes_read() > 1024 * 1024, 5000);
    QTRY_VERIFY_WITH_TIMEOUT(model_->history().size() >= points_before + 3, 5000);
    if (!carrier.isEmpty()) QTRY_VERIFY(chart->layer(carrier));
    const int drawn = carrier.isEmpty() ? 0 : static_cast<int>(chart->layer(carrier)->upperSeries()->count());
    QVERIFY2(carrier.isEmpty() || drawn >= points_before + 3, "the chart did not gain a point per second");

    if (carrier.isEmpty())
      QSKIP("no local interface address to put the concentrator on, so no path carries the traffic; "
            "only the one-point-per-second growth was checked");
    if (!model_->status().mptcp_available)
      QSKIP("MPTCP is unavailable, so the kernel gives no per-path counters; only the growth was checked");
    // The carrying path's layer rises above zero, in a human unit.
    QTRY_VERIFY_WITH_TIMEOUT(peak_of(chart->layer(carrier)) > 0, 8000);
    QVERIFY2(chart->unit().endsWith(QStringLiteral("bit/s")), qPrintable(chart->unit()));
    qInfo("chart: %s layer peaks at %.2f %s", qPrintable(carrier), peak_of(chart->layer(carrier)), qPrintable(chart->unit()));
    // And its card counts the bytes.
    QTRY_VERIFY_WITH_TIMEOUT(model_->find_path(carrier)->session.down > 1000000, 5000);
    QTRY_VERIFY_WITH_TIMEOUT(reader.closed(), 15000);
  }

  void connection_list_shows_and_closes_a_connection() {
    window_->show_tab(QStringLiteral("connections"));
    ConnectionsView* view = window_->connections();
    // A slow endless download keeps one connection open.
    PacedSource source(16 * 1024, 100, 0);
    SocksReader reader(braid.socks_port, source.port());
    const QString destination = QStringLiteral("127.0.0.1:%1").arg(source.port());
    auto row_of = [&]() -> int {
      auto* m = view->table_model();
      for (int r = 0; r < m->rowCount(); ++r)
        if (m->connection_at(r)->destination == destination) return r;
      return -1;
    };
    QTRY_VERIFY_WITH_TIMEOUT(row_of() >= 0, 5000);
    QVERIFY(reader.bytes_read() > 0 || !reader.closed());

    QTableView* table = view->table_view();
    const QModelIndex kill = view->table_model()->index(row_of(), view->table_model()->kill_column());
    QCOMPARE(kill.data().toString(), QStringLiteral("Close"));
    table->scrollTo(kill);
    const QPoint at = table->visualRect(kill).center();
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, at);
    QTRY_VERIFY_WITH_TIMEOUT(reader.closed(), 3000);
    QTRY_COMPARE_WITH_TIMEOUT(row_of(), -1, 4000);
  }

  void toggling_a_path_changes_the_policy_the_api_reports() {
    const QStringList names = braid.api_path_names();
    if (names.isEmpty())
      QSKIP("GET /v1/paths is empty here (no interface with an address): the path toggle cannot be tested");
    const QString name = names.first();
    window_->show_tab(QStringLiteral("overview"));
    PathCard* card = window_->overview()->card(name);
    QVERIFY(card);

    // On the card: Off. The card shows it within a second, and so does the API.
    QTest::mouseClick(card->policy_switch()->findChild<QToolButton*>(QStringLiteral("policy-off")), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(card->policy_switch()->shown_policy(), QStringLiteral("off"), 1000);
    QCOMPARE(braid.api_policy(name), QStringLiteral("off"));
    QTRY_VERIFY_WITH_TIMEOUT(card->state_text().contains(QStringLiteral("switched off")), 1000);
    // The mode now reads custom, in the API and on the dashboard.
    QCOMPARE(braid.api_get(QStringLiteral("/v1/mode")).object().value("mode").toString(), QStringLiteral("custom"));
    auto* mode = window_->overview()->findChild<QComboBox*>(QStringLiteral("mode"));
    QTRY_COMPARE_WITH_TIMEOUT(mode->currentData().toString(), QStringLiteral("custom"), 1000);

    // In the tray menu: the backup radio, then the checkable entry back on.
    tray_->rebuild_menu_now();
    QVERIFY(!tray_->action(QStringLiteral("path-") + name)->isChecked());
    tray_->action(QStringLiteral("policy-%1-backup").arg(name))->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(card->policy_switch()->shown_policy(), QStringLiteral("backup"), 1000);
    QCOMPARE(braid.api_policy(name), QStringLiteral("backup"));
    QTRY_VERIFY_WITH_TIMEOUT(tray_->action(QStringLiteral("path-") + name) &&
                                 tray_->action(QStringLiteral("policy-%1-backup").arg(name))->isChecked(),
                             1000);
    tray_->action(QStringLiteral("policy-%1-on").arg(name))->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(card->policy_switch()->shown_policy(), QStringLiteral("on"), 1000);
    QCOMPARE(braid.api_policy(name), QStringLiteral("on"));

    // The mode selector: back to aggregate.
    mode->setCurrentIndex(mode->findData(QStringLiteral("aggregate")));
    Q_EMIT mode->activated(mode->currentIndex());
    QTRY_COMPARE_WITH_TIMEOUT(braid.api_get(QStringLiteral("/v1/mode")).object().value("mode").toString(),
                              QStringLiteral("aggregate"), 1000);
  }

  void settings_errors_appear_next_to_the_field() {
    window_->show_tab(QStringLiteral("settings"));
    SettingsPage* page = window_->settings();
    auto* address = page->findChild<QLineEdit*>(QStringLiteral("concentrator.address"));
    auto* token = page->findChild<QLineEdit*>(QStringLiteral("concentrator.token"));
    auto* socks = page->findChild<QLineEdit*>(QStringLiteral("socks"));
    auto* save = page->findChild<QPushButton*>(QStringLiteral("save"));
    QVERIFY(address && token && socks && save);
    QTRY_COMPARE_WITH_TIMEOUT(socks->text(), QStringLiteral("127.0.0.1:%1").arg(braid.socks_port), 3000);

    socks->setText(QStringLiteral("no-port-here"));
    QTest::mouseClick(save, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!page->field_error(QStringLiteral("socks")).isEmpty(), 2000);
    qInfo("under SOCKS5: %s", qPrintable(page->field_error(QStringLiteral("socks"))));
    QVERIFY(page->general_message().startsWith(QStringLiteral("Not saved")));

    socks->setText(QStringLiteral("127.0.0.1:%1").arg(braid.socks_port));
    address->setText(QStringLiteral("127.0.0.1:7300"));
    token->clear();
    QTest::mouseClick(save, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!page->field_error(QStringLiteral("concentrator.token")).isEmpty(), 2000);
    QVERIFY(page->field_error(QStringLiteral("socks")).isEmpty());

    // Reload, save unchanged: the daemon writes the file and says where.
    page->load();
    QTRY_VERIFY_WITH_TIMEOUT(page->general_message().startsWith(QStringLiteral("Settings of")), 2000);
    QTest::mouseClick(save, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(page->general_message().startsWith(QStringLiteral("Saved to")), 2000);
    QVERIFY(page->general_message().contains(braid.config_path));

    // Start at login: the autostart entry comes and goes.
    auto* autostart = page->findChild<QCheckBox*>(QStringLiteral("autostart"));
    const QString entry = braid.home + "/config/autostart/braid-gui.desktop";
    autostart->setChecked(true);
    QVERIFY(QFile::exists(entry));
    QFile f(entry);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QVERIFY(f.readAll().contains("Exec=" + QCoreApplication::applicationFilePath().toUtf8()));
    autostart->setChecked(false);
    QVERIFY(!QFile::exists(entry));
  }

  void log_view_shows_the_daemon_log() {
    window_->show_tab(QStringLiteral("log"));
    QTRY_VERIFY_WITH_TIMEOUT(window_->log()->text().contains(QStringLiteral("listening SOCKS5")), 4000);
  }

  void a_killed_daemon_shows_unreachable_and_a_restart_recovers() {
    window_->show_tab(QStringLiteral("overview"));
    braid.kill_daemon();
    QTRY_COMPARE_WITH_TIMEOUT(model_->link(), DaemonLink::unreachable, 3000);
    QVERIFY(window_->banner()->headline().contains(QStringLiteral("not reachable")));
    QCOMPARE(tray_->verdict().state, TrayState::disconnected);
    auto* start = window_->banner()->findChild<QPushButton*>(QStringLiteral("start-daemon"));
    QVERIFY(start && start->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(tray_->action(QStringLiteral("start-daemon")), 1000);
    for (auto* card : window_->overview()->findChildren<PathCard*>()) QVERIFY(!card->isEnabled());

    // The window stays responsive while nobody answers.
    QElapsedTimer responsive;
    responsive.start();
    window_->show_tab(QStringLiteral("connections"));
    window_->show_tab(QStringLiteral("log"));
    window_->show_tab(QStringLiteral("overview"));
    QCoreApplication::processEvents();
    QVERIFY(responsive.elapsed() < 500);

    QString error;
    QVERIFY2(braid.start_daemon(&error), qPrintable(error));
    QTRY_COMPARE_WITH_TIMEOUT(model_->link(), DaemonLink::reachable, 6000);
    QVERIFY(!window_->banner()->headline().contains(QStringLiteral("not reachable")));
    QVERIFY(!start->isVisible());
    QStringList cards;
    for (auto* card : window_->overview()->findChildren<PathCard*>()) {
      QVERIFY(card->isEnabled());
      cards.append(card->path_name());
    }
    QCOMPARE(sorted(cards), sorted(braid.api_path_names()));
  }

  void the_start_daemon_button_starts_one() {
    braid.kill_daemon();
    QTRY_COMPARE_WITH_TIMEOUT(model_->link(), DaemonLink::unreachable, 3000);
    auto* start = window_->banner()->findChild<QPushButton*>(QStringLiteral("start-daemon"));
    QVERIFY(start->isVisible());
    QTest::mouseClick(start, Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(model_->link(), DaemonLink::reachable, 8000);
    QCOMPARE(braid.api_get(QStringLiteral("/v1/status")).object().value("listening").toArray().size(), 1);
    braid.kill_strays();
  }

  void cleanupTestCase() {
    tray_.reset();
    window_.reset();
    model_.reset();
    braid.stop_all();
  }

 private:
  // The path whose address the concentrator listens on: the one that carries.
  QString path_of_concentrator() const {
    if (braid.path_address.isEmpty()) return {};
    for (const auto& p : model_->paths())
      if (p.addresses.contains(braid.path_address)) return p.name;
    return {};
  }

  std::unique_ptr<DaemonModel> model_;
  std::unique_ptr<DashboardWindow> window_;
  std::unique_ptr<Tray> tray_;
};

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  DashboardLiveTest test;
  QString why_not;
  if (!test.braid.prepare(&why_not)) {
    std::fprintf(stderr, "SKIP: %s\n", qPrintable(why_not));
    return 77;
  }
  return QTest::qExec(&test, argc, argv);
}

#include "dashboard_live_test.moc"
