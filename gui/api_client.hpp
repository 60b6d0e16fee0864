// The one door to the daemon: asynchronous HTTP+JSON requests to the control
// API (docs/API.md) with a bearer token and a timeout each, so no caller can
// freeze the window when the daemon is slow or gone.
#pragma once

#include <functional>

#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QObject>

#include "gui/api_target.hpp"

class QNetworkReply;

namespace braid::gui {

/// What one request came back with.
struct ApiResult {
  int status = 0;       ///< HTTP status; 0 when the daemon did not answer
  QJsonDocument body;   ///< the JSON answer (also for 4xx: {"error": ...})
  QString error;        ///< empty on 2xx; else what went wrong, in words

  bool answered() const { return status != 0; }
  bool ok() const { return status >= 200 && status < 300; }
};

class ApiClient : public QObject {
  Q_OBJECT
 public:
  using Callback = std::function<void(const ApiResult&)>;

  /// Per-request limit; the daemon answers in well under a millisecond.
  static constexpr int kTimeoutMs = 3000;
  /// The event stream sends once a second; this much silence means it is stuck.
  static constexpr int kStreamSilenceMs = 5000;

  explicit ApiClient(QObject* parent = nullptr);

  void set_target(const ApiTarget& target, const QByteArray& token);
  const ApiTarget& target() const { return target_; }

  /// @p done runs later on the GUI thread, unless @p context is gone by then.
  void get(const QString& path, QObject* context, Callback done);
  void put(const QString& path, const QJsonDocument& body, QObject* context, Callback done);
  void remove(const QString& path, QObject* context, Callback done);

  /// Starts a long GET (the Server-Sent Events stream); the caller owns the reply.
  QNetworkReply* open_stream(const QString& path);

  /// Turns a finished reply into a result (status, JSON, error words).
  ApiResult result_of(QNetworkReply* reply) const;

 private:
  QNetworkRequest request_for(const QString& path, int timeout_ms) const;
  void deliver(QNetworkReply* reply, QObject* context, Callback done);

  QNetworkAccessManager nam_;
  ApiTarget target_;
  QByteArray token_;
};

}  // namespace braid::gui
