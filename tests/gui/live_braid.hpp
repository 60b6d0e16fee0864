// A real braid daemon for the GUI tests: `braid up` (and a braid-concentrator
// on the address of a local interface, so proxied traffic rides a path and
// shows in the per-path telemetry) with a private HOME and XDG directories,
// free loopback ports and "manage_endpoints": false, so switching a path
// records the policy without touching the kernel's MPTCP endpoints.
#pragma once

#include <QJsonDocument>
#include <QProcess>
#include <QString>
#include <QTemporaryDir>

class LiveBraid {
 public:
  LiveBraid();
  ~LiveBraid();

  /// Finds the binaries and ports and writes the config; false with a reason to skip.
  bool prepare(QString* why_not);
  bool start_concentrator(QString* error);
  bool start_daemon(QString* error);
  /// SIGKILL: the daemon vanishes without a goodbye, as in a crash.
  void kill_daemon();
  /// Kills a daemon the GUI started (found by our private config path in /proc).
  void kill_strays();
  void stop_all();

  /// GET on the control API, synchronously (for the test's own assertions).
  QJsonDocument api_get(const QString& path, int* status = nullptr) const;
  QStringList api_path_names() const;
  QString api_policy(const QString& path) const;

  QString bin_dir;
  QString config_path;
  QString home;
  QString path_address;  ///< the local interface address the concentrator listens on ("" when none)
  quint16 socks_port = 0;
  quint16 control_port = 0;
  quint16 concentrator_port = 0;

 private:
  QByteArray token() const;

  QTemporaryDir dir_;
  QProcess daemon_;
  QProcess concentrator_;
};

/// A TCP server on loopback that sends data at a steady pace to whoever connects.
class PacedSource : public QObject {
  Q_OBJECT
 public:
  /// @p total_bytes 0: until the peer goes away.
  PacedSource(qint64 bytes_per_tick, int tick_ms, qint64 total_bytes);
  quint16 port() const;

 private:
  class QTcpServer* server_;
  qint64 per_tick_;
  int tick_ms_;
  qint64 total_;
};

/// A client that reads everything through braid's SOCKS5 port.
class SocksReader : public QObject {
  Q_OBJECT
 public:
  SocksReader(quint16 socks_port, quint16 destination_port);
  qint64 bytes_read() const { return read_; }
  bool closed() const { return closed_; }

 private:
  class QTcpSocket* socket_;
  qint64 read_ = 0;
  bool closed_ = false;
};
