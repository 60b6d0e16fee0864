#include "gui/dashboard_window.hpp"

#include <QCloseEvent>
#include <QTabWidget>
#include <QVBoxLayout>

#include "gui/connections_view.hpp"
#include "gui/daemon_model.hpp"
#include "gui/icons.hpp"
#include "gui/log_view.hpp"
#include "gui/overview_page.hpp"
#include "gui/settings_page.hpp"
#include "gui/status_banner.hpp"

namespace braid::gui {

DashboardWindow::DashboardWindow(DaemonModel& model, QWidget* parent)
    : QMainWindow(parent),
      banner_(new StatusBanner(model, this)),
      tabs_(new QTabWidget(this)),
      overview_(new OverviewPage(model, this)),
      connections_(new ConnectionsView(model, this)),
      settings_(new SettingsPage(model, this)),
      log_(new LogView(model, this)) {
  setWindowTitle(tr("Braid"));
  setWindowIcon(icons::icon(QStringLiteral("braid")));
  tabs_->addTab(overview_, tr("Overview"));
  tabs_->addTab(connections_, tr("Connections"));
  tabs_->addTab(settings_, tr("Settings"));
  tabs_->addTab(log_, tr("Log"));

  auto* central = new QWidget(this);
  auto* layout = new QVBoxLayout(central);
  layout->addWidget(banner_);
  layout->addWidget(tabs_, 1);
  setCentralWidget(central);
  resize(1120, 800);
}

void DashboardWindow::present() {
  show();
  setWindowState((windowState() & ~Qt::WindowMinimized) | Qt::WindowActive);
  raise();
  activateWindow();
}

bool DashboardWindow::show_tab(const QString& name) {
  const QList<QWidget*> pages{overview_, connections_, settings_, log_};
  const QStringList names{QStringLiteral("overview"), QStringLiteral("connections"), QStringLiteral("settings"),
                          QStringLiteral("log")};
  const auto i = names.indexOf(name);
  if (i < 0) return false;
  tabs_->setCurrentWidget(pages[i]);
  return true;
}

void DashboardWindow::closeEvent(QCloseEvent* event) {
  if (hide_on_close_) {
    // The tray icon stays; the window comes back from its menu.
    hide();
    event->ignore();
    return;
  }
  QMainWindow::closeEvent(event);
}

}  // namespace braid::gui
