#include "gui/daemon_launcher.hpp"

#include <QCoreApplication>
#include <QFileInfo>
#include <QProcess>
#include <QStandardPaths>

namespace braid::gui {

QString DaemonLauncher::find_braid() {
  const QFileInfo beside(QCoreApplication::applicationDirPath() + QStringLiteral("/braid"));
  if (beside.isFile() && beside.isExecutable()) return beside.absoluteFilePath();
  return QStandardPaths::findExecutable(QStringLiteral("braid"));
}

bool DaemonLauncher::start(const QString& config_path, QString* error) {
  const QString program = find_braid();
  if (program.isEmpty()) {
    *error = QObject::tr("braid was found neither next to braid-gui (%1) nor on PATH; install it or start "
                         "`braid up` yourself")
                 .arg(QCoreApplication::applicationDirPath());
    return false;
  }
  QStringList args{QStringLiteral("up")};
  if (!config_path.isEmpty()) args << QStringLiteral("--config") << config_path;
  QProcess process;
  process.setProgram(program);
  process.setArguments(args);
  // Its log is in the dashboard's Log tab (GET /v1/logs); the terminal we were
  // started from, if any, should not fill with it.
  process.setStandardOutputFile(QProcess::nullDevice());
  process.setStandardErrorFile(QProcess::nullDevice());
  if (!process.startDetached()) {
    *error = QObject::tr("could not run %1 up").arg(program);
    return false;
  }
  return true;
}

}  // namespace braid::gui
