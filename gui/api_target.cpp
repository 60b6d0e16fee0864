#include "gui/api_target.hpp"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

namespace braid::gui {

namespace {

QString xdg_dir(const char* variable, const QString& fallback_under_home) {
  const QString set = qEnvironmentVariable(variable);
  if (!set.isEmpty()) return set;
  return QDir::homePath() + QLatin1Char('/') + fallback_under_home;
}

}  // namespace

QString default_config_path(const QString& file) {
  return xdg_dir("XDG_CONFIG_HOME", QStringLiteral(".config")) + QStringLiteral("/braid/") + file;
}

QString default_state_path(const QString& file) {
  return xdg_dir("XDG_STATE_HOME", QStringLiteral(".local/state")) + QStringLiteral("/braid/") + file;
}

bool split_host_port(const QString& text, QString* host, quint16* port) {
  QString h;
  QString p;
  if (text.startsWith(QLatin1Char('['))) {
    const auto close = text.indexOf(QLatin1Char(']'));
    if (close < 0 || close + 1 >= text.size() || text.at(close + 1) != QLatin1Char(':')) return false;
    h = text.mid(1, close - 1);
    p = text.mid(close + 2);
  } else {
    const auto colon = text.lastIndexOf(QLatin1Char(':'));
    if (colon <= 0) return false;
    h = text.left(colon);
    p = text.mid(colon + 1);
  }
  bool ok = false;
  const uint n = p.toUInt(&ok);
  if (!ok || n == 0 || n > 65535 || h.isEmpty()) return false;
  *host = h;
  *port = static_cast<quint16>(n);
  return true;
}

QString ApiTarget::address() const {
  return host.contains(QLatin1Char(':')) ? QStringLiteral("[%1]:%2").arg(host).arg(port)
                                         : QStringLiteral("%1:%2").arg(host).arg(port);
}

QUrl ApiTarget::url(const QString& path) const {
  return QUrl(QStringLiteral("http://") + address() + path);
}

QByteArray ApiTarget::read_token(QString* error) const {
  QFile f(token_file);
  if (!f.open(QIODevice::ReadOnly)) {
    *error = QStringLiteral("cannot read the API token %1 (%2); the daemon creates it on its first start, and only "
                            "the user who runs the daemon can read it")
                 .arg(token_file, f.errorString());
    return {};
  }
  QByteArray token = f.readAll().trimmed();
  if (token.isEmpty()) *error = QStringLiteral("the API token file %1 is empty").arg(token_file);
  return token;
}

ApiTarget ApiTarget::locate(const LocateOptions& options) {
  ApiTarget t;
  t.config_path = options.config_path.isEmpty() ? default_config_path(QStringLiteral("braid.json")) : options.config_path;
  t.token_file = default_state_path(QStringLiteral("api-token"));

  QFile f(t.config_path);
  if (f.exists()) {
    if (!f.open(QIODevice::ReadOnly)) {
      t.problem = QStringLiteral("cannot read the config %1: %2").arg(t.config_path, f.errorString());
    } else {
      QJsonParseError parse{};
      const auto doc = QJsonDocument::fromJson(f.readAll(), &parse);
      if (parse.error != QJsonParseError::NoError || !doc.isObject()) {
        t.problem = QStringLiteral("the config %1 is not a JSON object (%2); using the default API address")
                        .arg(t.config_path, parse.errorString());
      } else {
        const auto root = doc.object();
        const auto control = root.value(QStringLiteral("control"));
        if (control.isNull() || (control.isBool() && !control.toBool())) {
          t.enabled = false;
          t.problem = QStringLiteral("the control API is off in %1 (\"control\": null); the tray app needs it")
                          .arg(t.config_path);
        } else if (control.isObject()) {
          const auto c = control.toObject();
          const auto listen = c.value(QStringLiteral("listen")).toString();
          if (!listen.isEmpty() && !split_host_port(listen, &t.host, &t.port))
            t.problem = QStringLiteral("control.listen in %1 is not HOST:PORT: %2").arg(t.config_path, listen);
          const auto token = c.value(QStringLiteral("token_file")).toString();
          if (!token.isEmpty()) t.token_file = token;
        }
      }
    }
  } else if (!options.config_path.isEmpty()) {
    t.problem = QStringLiteral("the config %1 does not exist").arg(t.config_path);
  }

  if (!options.api.isEmpty()) {
    t.enabled = true;
    if (!split_host_port(options.api, &t.host, &t.port))
      t.problem = QStringLiteral("--api %1: expected HOST:PORT").arg(options.api);
  }
  if (!options.token_file.isEmpty()) t.token_file = options.token_file;
  return t;
}

}  // namespace braid::gui
