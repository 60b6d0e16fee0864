// Where the daemon's control API listens and how to prove we may use it,
// found the way `braid status` finds them (core/cmd/cli_verbs.cpp): the config
// file names control.listen and control.token_file, else the defaults apply.
// The config is read with Qt's JSON so the GUI stays a pure API client.
#pragma once

#include <QByteArray>
#include <QString>
#include <QUrl>

namespace braid::gui {

/// Command-line overrides, as the CLI verbs take them.
struct LocateOptions {
  QString config_path;  ///< --config; empty: $XDG_CONFIG_HOME/braid/braid.json
  QString api;          ///< --api HOST:PORT; empty: control.listen
  QString token_file;   ///< --token-file; empty: control.token_file
};

/// The control API's address and token file.
struct ApiTarget {
  QString host = QStringLiteral("127.0.0.1");
  quint16 port = 7310;
  QString token_file;
  QString config_path;   ///< the file the daemon reads (it may not exist yet)
  bool enabled = true;   ///< false when the config says "control": null
  QString problem;       ///< why the config could not be used, empty when fine

  /// "127.0.0.1:7310", "[::1]:7310".
  QString address() const;
  /// http://address/path for one API resource ("/v1/status").
  QUrl url(const QString& path) const;
  /// The bearer token, or empty with @p error saying why.
  QByteArray read_token(QString* error) const;

  /// Reads the config (if any) and applies @p options on top of it.
  static ApiTarget locate(const LocateOptions& options);
};

/// $XDG_CONFIG_HOME/braid/<file>, or ~/.config/braid/<file>.
QString default_config_path(const QString& file);
/// $XDG_STATE_HOME/braid/<file>, or ~/.local/state/braid/<file>.
QString default_state_path(const QString& file);
/// Splits "host:port" / "[v6]:port"; false when it is not one.
bool split_host_port(const QString& text, QString* host, quint16* port);

}  // namespace braid::gui
