#include "live_braid.hpp"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkInterface>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>
#include <QTimer>

namespace {

quint16 free_port() {
  QTcpServer probe;
  probe.listen(QHostAddress::LocalHost, 0);
  return probe.serverPort();
}

// The first global IPv4 address of an interface that is up (not loopback).
QString local_interface_address() {
  for (const auto& itf : QNetworkInterface::allInterfaces()) {
    const auto flags = itf.flags();
    if (!(flags & QNetworkInterface::IsUp) || !(flags & QNetworkInterface::IsRunning) ||
        (flags & QNetworkInterface::IsLoopBack))
      continue;
    for (const auto& e : itf.addressEntries()) {
      const QHostAddress a = e.ip();
      if (a.protocol() == QAbstractSocket::IPv4Protocol && !a.isLoopback() && !a.isLinkLocal()) return a.toString();
    }
  }
  return {};
}

bool wait_for_port(quint16 port, int ms) {
  QElapsedTimer t;
  t.start();
  while (t.elapsed() < ms) {
    QTcpSocket s;
    s.connectToHost(QHostAddress::LocalHost, port);
    if (s.waitForConnected(200)) return true;
    QThread::msleep(50);
  }
  return false;
}

}  // namespace

LiveBraid::LiveBraid() = default;

LiveBraid::~LiveBraid() { stop_all(); }

bool LiveBraid::prepare(QString* why_not) {
  bin_dir = qEnvironmentVariable("BRAID_BIN_DIR");
  if (bin_dir.isEmpty()) {
    *why_not = QStringLiteral("BRAID_BIN_DIR is not set (ctest sets it to the build's bin/)");
    return false;
  }
  for (const char* name : {"braid", "braid-concentrator"}) {
    if (!QFileInfo(bin_dir + QLatin1Char('/') + QLatin1String(name)).isExecutable()) {
      *why_not = QStringLiteral("%1/%2 is not built").arg(bin_dir, QLatin1String(name));
      return false;
    }
  }
  if (!dir_.isValid()) {
    *why_not = QStringLiteral("cannot make a temporary directory");
    return false;
  }
  home = dir_.path();
  // Everything braid and the GUI read or write stays in the temporary home.
  for (const char* d : {"/config/braid", "/state", "/run"}) QDir().mkpath(home + QLatin1String(d));
  qputenv("HOME", home.toUtf8());
  qputenv("XDG_CONFIG_HOME", (home + "/config").toUtf8());
  qputenv("XDG_STATE_HOME", (home + "/state").toUtf8());
  qputenv("XDG_RUNTIME_DIR", (home + "/run").toUtf8());
  QFile::setPermissions(home + "/run", QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
  // The dashboard's "Start daemon" finds braid on PATH.
  qputenv("PATH", (bin_dir + QLatin1Char(':') + qEnvironmentVariable("PATH")).toUtf8());

  socks_port = free_port();
  control_port = free_port();
  concentrator_port = free_port();
  path_address = local_interface_address();

  QJsonObject config{{"socks", QStringLiteral("127.0.0.1:%1").arg(socks_port)},
                     {"http", QJsonValue::Null},
                     {"control", QJsonObject{{"listen", QStringLiteral("127.0.0.1:%1").arg(control_port)}}},
                     {"manage_endpoints", false},
                     {"log_level", "info"}};
  config_path = home + "/config/braid/braid.json";
  {
    QFile f(config_path);
    if (!f.open(QIODevice::WriteOnly)) {
      *why_not = QStringLiteral("cannot write %1").arg(config_path);
      return false;
    }
    f.write(QJsonDocument(config).toJson());
  }
  if (path_address.isEmpty()) return true;
  // The concentrator the way a user sets one up: init prints an access key,
  // the client imports it (TLS, pinned fingerprint).
  QProcess init;
  init.start(bin_dir + "/braid-concentrator",
             {"init", "--dir", home + "/conc", "--host", path_address, "--port", QString::number(concentrator_port),
              "--user", "gui"});
  if (!init.waitForFinished(10000) || init.exitCode() != 0) {
    *why_not = QStringLiteral("braid-concentrator init failed: %1").arg(QString::fromUtf8(init.readAllStandardError()));
    return false;
  }
  const QString key = QString::fromUtf8(init.readAllStandardOutput()).trimmed();
  QProcess add;
  add.start(bin_dir + "/braid", {"add-concentrator", key, "-c", config_path});
  if (!add.waitForFinished(10000) || add.exitCode() != 0) {
    *why_not = QStringLiteral("braid add-concentrator failed: %1").arg(QString::fromUtf8(add.readAllStandardError()));
    return false;
  }
  return true;
}

bool LiveBraid::start_concentrator(QString* error) {
  if (path_address.isEmpty()) return true;  // no interface: the daemon connects directly
  concentrator_.setProcessChannelMode(QProcess::ForwardedErrorChannel);
  concentrator_.setStandardOutputFile(home + "/concentrator.log");
  concentrator_.start(bin_dir + "/braid-concentrator",
                      {"-c", home + "/conc/concentrator.json", "--listen",
                       QStringLiteral("%1:%2").arg(path_address).arg(concentrator_port), "--log-level", "info",
                       // the test's sources listen on loopback, which the destination policy refuses by default
                       "--allow", "127.0.0.1/32"});
  if (!concentrator_.waitForStarted(5000)) {
    *error = QStringLiteral("braid-concentrator did not start: %1").arg(concentrator_.errorString());
    return false;
  }
  QElapsedTimer t;
  t.start();
  while (t.elapsed() < 5000) {
    QTcpSocket s;
    s.connectToHost(path_address, concentrator_port);
    if (s.waitForConnected(200)) return true;
    QThread::msleep(50);
  }
  *error = QStringLiteral("braid-concentrator does not listen on %1:%2").arg(path_address).arg(concentrator_port);
  return false;
}

bool LiveBraid::start_daemon(QString* error) {
  daemon_.setProcessChannelMode(QProcess::MergedChannels);
  daemon_.setStandardOutputFile(home + "/braid.log", QIODevice::Append);
  daemon_.start(bin_dir + "/braid", {"up", "--config", config_path});
  if (!daemon_.waitForStarted(5000)) {
    *error = QStringLiteral("braid up did not start: %1").arg(daemon_.errorString());
    return false;
  }
  if (!wait_for_port(control_port, 8000)) {
    QFile log(home + "/braid.log");
    log.open(QIODevice::ReadOnly);
    *error = QStringLiteral("braid up does not serve its API on 127.0.0.1:%1; its log:\n%2")
                 .arg(control_port)
                 .arg(QString::fromUtf8(log.readAll()));
    return false;
  }
  return true;
}

void LiveBraid::kill_daemon() {
  if (daemon_.state() == QProcess::NotRunning) return;
  daemon_.kill();
  daemon_.waitForFinished(5000);
}

void LiveBraid::kill_strays() {
  // Only the daemon started with our private config: its command line names it.
  const QByteArray mine = config_path.toUtf8();
  for (const auto& entry : QDir(QStringLiteral("/proc")).entryList(QDir::Dirs)) {
    bool numeric = false;
    const qint64 pid = entry.toLongLong(&numeric);
    if (!numeric || pid == QCoreApplication::applicationPid() || pid == daemon_.processId()) continue;
    QFile cmd(QStringLiteral("/proc/%1/cmdline").arg(pid));
    if (!cmd.open(QIODevice::ReadOnly)) continue;
    const QList<QByteArray> argv = cmd.readAll().split('\0');
    if (argv.size() >= 4 && argv[0].endsWith("/braid") && argv[1] == "up" && argv.contains(mine))
      QProcess::execute(QStringLiteral("kill"), {QStringLiteral("-TERM"), QString::number(pid)});
  }
}

void LiveBraid::stop_all() {
  kill_strays();
  for (QProcess* p : {&daemon_, &concentrator_}) {
    if (p->state() == QProcess::NotRunning) continue;
    p->terminate();
    if (!p->waitForFinished(5000)) {
      p->kill();
      p->waitForFinished(2000);
    }
  }
}

QByteArray LiveBraid::token() const {
  QFile f(home + "/state/braid/api-token");
  return f.open(QIODevice::ReadOnly) ? f.readAll().trimmed() : QByteArray();
}

QJsonDocument LiveBraid::api_get(const QString& path, int* status) const {
  QNetworkAccessManager nam;
  nam.setProxy(QNetworkProxy::NoProxy);
  QNetworkRequest r(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(control_port).arg(path)));
  r.setRawHeader("Authorization", "Bearer " + token());
  r.setTransferTimeout(3000);
  QNetworkReply* reply = nam.get(r);
  QEventLoop loop;
  QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
  loop.exec();
  if (status) *status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
  const auto doc = QJsonDocument::fromJson(reply->readAll());
  reply->deleteLater();
  return doc;
}

QStringList LiveBraid::api_path_names() const {
  QStringList names;
  for (const auto& p : api_get(QStringLiteral("/v1/paths")).array())
    names.append(p.toObject().value(QStringLiteral("name")).toString());
  return names;
}

QString LiveBraid::api_policy(const QString& path) const {
  return api_get(QStringLiteral("/v1/paths/") + path).object().value(QStringLiteral("policy")).toString();
}

PacedSource::PacedSource(qint64 bytes_per_tick, int tick_ms, qint64 total_bytes)
    : server_(new QTcpServer(this)), per_tick_(bytes_per_tick), tick_ms_(tick_ms), total_(total_bytes) {
  server_->listen(QHostAddress::LocalHost, 0);
  connect(server_, &QTcpServer::newConnection, this, [this] {
    while (QTcpSocket* s = server_->nextPendingConnection()) {
      auto* timer = new QTimer(s);
      auto* sent = new qint64(0);
      connect(s, &QObject::destroyed, [sent] { delete sent; });
      connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
      connect(timer, &QTimer::timeout, s, [this, s, timer, sent] {
        if (total_ && *sent >= total_) {
          timer->stop();
          s->disconnectFromHost();
          return;
        }
        // Pace, but never queue more than a few ticks when the reader is slow.
        if (s->bytesToWrite() > 4 * per_tick_) return;
        const qint64 n = total_ ? std::min(per_tick_, total_ - *sent) : per_tick_;
        s->write(QByteArray(static_cast<int>(n), 'b'));
        *sent += n;
      });
      timer->start(tick_ms_);
    }
  });
}

quint16 PacedSource::port() const { return server_->serverPort(); }

SocksReader::SocksReader(quint16 socks_port, quint16 destination_port) : socket_(new QTcpSocket(this)) {
  socket_->setProxy(QNetworkProxy(QNetworkProxy::Socks5Proxy, QStringLiteral("127.0.0.1"), socks_port));
  connect(socket_, &QTcpSocket::readyRead, this, [this] { read_ += socket_->readAll().size(); });
  connect(socket_, &QTcpSocket::disconnected, this, [this] { closed_ = true; });
  connect(socket_, &QTcpSocket::errorOccurred, this, [this] { closed_ = true; });
  socket_->connectToHost(QStringLiteral("127.0.0.1"), destination_port);
}
