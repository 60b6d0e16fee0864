#include "gui/api_client.hpp"

#include <QJsonObject>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QNetworkRequest>

namespace braid::gui {

ApiClient::ApiClient(QObject* parent) : QObject(parent) {
  // The API is on loopback; an http_proxy in the environment must not apply.
  nam_.setProxy(QNetworkProxy::NoProxy);
}

void ApiClient::set_target(const ApiTarget& target, const QByteArray& token) {
  target_ = target;
  token_ = token;
}

QNetworkRequest ApiClient::request_for(const QString& path, int timeout_ms) const {
  QNetworkRequest r(target_.url(path));
  r.setRawHeader("Authorization", "Bearer " + token_);
  // A transfer timeout aborts a request that moves no bytes for this long.
  r.setTransferTimeout(timeout_ms);
  r.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
  return r;
}

void ApiClient::get(const QString& path, QObject* context, Callback done) {
  deliver(nam_.get(request_for(path, kTimeoutMs)), context, std::move(done));
}

void ApiClient::put(const QString& path, const QJsonDocument& body, QObject* context, Callback done) {
  auto r = request_for(path, kTimeoutMs);
  r.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
  deliver(nam_.put(r, body.toJson(QJsonDocument::Compact)), context, std::move(done));
}

void ApiClient::remove(const QString& path, QObject* context, Callback done) {
  deliver(nam_.deleteResource(request_for(path, kTimeoutMs)), context, std::move(done));
}

QNetworkReply* ApiClient::open_stream(const QString& path) {
  auto r = request_for(path, kStreamSilenceMs);
  r.setRawHeader("Accept", "text/event-stream");
  return nam_.get(r);
}

void ApiClient::deliver(QNetworkReply* reply, QObject* context, Callback done) {
  connect(reply, &QNetworkReply::finished, context, [this, reply, done = std::move(done)] {
    const ApiResult r = result_of(reply);
    reply->deleteLater();
    done(r);
  });
  // Without the context the reply must still be freed.
  connect(reply, &QNetworkReply::finished, reply, &QObject::deleteLater);
}

ApiResult ApiClient::result_of(QNetworkReply* reply) const {
  ApiResult r;
  r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
  const QByteArray data = reply->readAll();
  if (!data.isEmpty()) r.body = QJsonDocument::fromJson(data);
  if (r.ok()) return r;
  if (r.answered()) {
    const QString said = r.body.object().value(QStringLiteral("error")).toString();
    r.error = said.isEmpty() ? QStringLiteral("the daemon answered HTTP %1").arg(r.status) : said;
    return r;
  }
  switch (reply->error()) {
    case QNetworkReply::ConnectionRefusedError:
      r.error = QStringLiteral("nothing listens at %1 (is `braid up` running?)").arg(target_.address());
      break;
    case QNetworkReply::OperationCanceledError:
    case QNetworkReply::TimeoutError:
      r.error = QStringLiteral("the daemon at %1 did not answer within %2 s")
                    .arg(target_.address())
                    .arg(kTimeoutMs / 1000);
      break;
    case QNetworkReply::RemoteHostClosedError:
      r.error = QStringLiteral("the daemon at %1 closed the connection").arg(target_.address());
      break;
    default:
      r.error = QStringLiteral("cannot reach the daemon at %1: %2").arg(target_.address(), reply->errorString());
  }
  return r;
}

}  // namespace braid::gui
