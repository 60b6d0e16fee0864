#include "gui/autostart_entry.hpp"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSaveFile>

#include "gui/icons.hpp"

namespace braid::gui {

QString AutostartEntry::path() {
  QString base = qEnvironmentVariable("XDG_CONFIG_HOME");
  if (base.isEmpty()) base = QDir::homePath() + QStringLiteral("/.config");
  return base + QStringLiteral("/autostart/braid-gui.desktop");
}

bool AutostartEntry::installed() { return QFileInfo::exists(path()); }

QString AutostartEntry::contents(const QString& program) {
  icons::pixmap(QStringLiteral("braid"), 1);  // makes sure the resources are linked in
  QFile f(QStringLiteral(":/packaging/braid-gui-autostart.desktop"));
  QString text = f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
  // Desktop Entry Specification: quote arguments that contain spaces.
  const QString exec = program.contains(QLatin1Char(' ')) ? QLatin1Char('"') + program + QLatin1Char('"') : program;
  static const QRegularExpression exec_line(QStringLiteral(R"(^Exec=braid-gui)"), QRegularExpression::MultilineOption);
  text.replace(exec_line, QStringLiteral("Exec=") + exec);
  return text;
}

bool AutostartEntry::install(QString* error) {
  const QString target = path();
  if (!QDir().mkpath(QFileInfo(target).absolutePath())) {
    *error = QObject::tr("cannot create %1").arg(QFileInfo(target).absolutePath());
    return false;
  }
  QSaveFile out(target);
  if (!out.open(QIODevice::WriteOnly)) {
    *error = QObject::tr("cannot write %1: %2").arg(target, out.errorString());
    return false;
  }
  out.write(contents(QCoreApplication::applicationFilePath()).toUtf8());
  if (!out.commit()) {
    *error = QObject::tr("cannot write %1: %2").arg(target, out.errorString());
    return false;
  }
  return true;
}

bool AutostartEntry::remove(QString* error) {
  QFile f(path());
  if (!f.exists() || f.remove()) return true;
  *error = QObject::tr("cannot remove %1: %2").arg(path(), f.errorString());
  return false;
}

}  // namespace braid::gui
