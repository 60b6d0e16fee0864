// braid-gui: the tray icon and dashboard of the braid daemon. A client of the
// daemon's control API only (docs/API.md); it starts `braid up` when asked.
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include "gui/dashboard_window.hpp"
#include "gui/daemon_model.hpp"
#include "gui/icons.hpp"
#include "gui/screenshot_runner.hpp"
#include "gui/status_banner.hpp"
#include "gui/tray.hpp"

#ifndef BRAID_VERSION
#define BRAID_VERSION "0.0.0"
#endif

using namespace braid::gui;

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("braid-gui"));
  QApplication::setApplicationVersion(QStringLiteral(BRAID_VERSION));
  QApplication::setDesktopFileName(QStringLiteral("braid-gui"));
  QApplication::setWindowIcon(icons::icon(QStringLiteral("braid")));

  QCommandLineParser cli;
  cli.setApplicationDescription(QStringLiteral("Braid's tray icon and dashboard (talks to `braid up` through its control API)"));
  cli.addHelpOption();
  cli.addVersionOption();
  const QCommandLineOption config({QStringLiteral("c"), QStringLiteral("config")},
                                  QStringLiteral("braid's config file (default: $XDG_CONFIG_HOME/braid/braid.json)"),
                                  QStringLiteral("PATH"));
  const QCommandLineOption api(QStringLiteral("api"), QStringLiteral("control API address (default: control.listen)"),
                               QStringLiteral("HOST:PORT"));
  const QCommandLineOption token_file(QStringLiteral("token-file"),
                                      QStringLiteral("API token file (default: control.token_file)"),
                                      QStringLiteral("PATH"));
  const QCommandLineOption dashboard(QStringLiteral("dashboard"), QStringLiteral("open the dashboard at start"));
  const QCommandLineOption tab(QStringLiteral("tab"), QStringLiteral("dashboard tab: overview, connections, settings, log"),
                               QStringLiteral("NAME"));
  const QCommandLineOption no_tray(QStringLiteral("no-tray"), QStringLiteral("behave as on a desktop without a tray"));
  const QCommandLineOption screenshot(
      QStringLiteral("screenshot"),
      QStringLiteral("save the dashboard as PNG after --after seconds (PATH@SECONDS: at that time); repeatable; "
                     "quits after the last"),
      QStringLiteral("PATH"));
  const QCommandLineOption tray_shot(QStringLiteral("tray-menu-screenshot"),
                                     QStringLiteral("save the open tray menu as PNG, like --screenshot"),
                                     QStringLiteral("PATH"));
  const QCommandLineOption after(QStringLiteral("after"), QStringLiteral("seconds before a screenshot (default 5)"),
                                 QStringLiteral("SECONDS"), QStringLiteral("5"));
  cli.addOptions({config, api, token_file, dashboard, tab, no_tray, screenshot, tray_shot, after});
  cli.process(app);

  LocateOptions where;
  where.config_path = cli.value(config);
  where.api = cli.value(api);
  where.token_file = cli.value(token_file);

  DaemonModel model(where);
  DashboardWindow window(model);
  Tray tray(model);
  QObject::connect(&tray, &Tray::dashboard_requested, &window, &DashboardWindow::present);
  QObject::connect(&tray, &Tray::quit_requested, &app, &QApplication::quit);
  if (cli.isSet(tab) && !window.show_tab(cli.value(tab)))
    qWarning("braid-gui: --tab %s: expected overview, connections, settings or log", qPrintable(cli.value(tab)));

  // With a tray the app lives there and the window comes and goes; without
  // one the window is all there is, and closing it quits.
  const bool wants_tray = !cli.isSet(no_tray);
  auto use_tray_if_there = [&] {
    const bool there = wants_tray && Tray::system_tray_available();
    window.set_hide_on_close(there);
    QApplication::setQuitOnLastWindowClosed(!there);
    window.banner()->set_tray_notice(
        there ? QString()
              : QObject::tr("There is no system tray on this desktop, so Braid shows this window instead; closing it "
                            "quits braid-gui (the daemon keeps running)."));
    if (there) tray.show();
    return there;
  };
  const bool tray_at_start = use_tray_if_there();
  // A panel that starts after us (a login race) still gets the icon.
  QTimer tray_watch;
  if (wants_tray && !tray_at_start) {
    QObject::connect(&tray_watch, &QTimer::timeout, [&] {
      if (use_tray_if_there()) tray_watch.stop();
    });
    tray_watch.start(5000);
  }
  if (!tray_at_start || cli.isSet(dashboard) || cli.isSet(screenshot)) window.present();

  model.start();

  QList<Screenshot> shots;
  const double default_seconds = cli.value(after).toDouble();
  for (const auto& spec : cli.values(screenshot))
    shots.append(ScreenshotRunner::parse(Screenshot::Kind::dashboard, spec, default_seconds));
  for (const auto& spec : cli.values(tray_shot))
    shots.append(ScreenshotRunner::parse(Screenshot::Kind::tray_menu, spec, default_seconds));
  ScreenshotRunner shooter(shots, window, tray);
  if (!shots.isEmpty()) shooter.start();

  return QApplication::exec();
}
