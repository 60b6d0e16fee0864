#include "gui/traffic_stream.hpp"

#include <QJsonDocument>
#include <QNetworkReply>

#include "gui/api_client.hpp"

namespace braid::gui {

TrafficStream::TrafficStream(ApiClient& api, QObject* parent) : QObject(parent), api_(api) {}

TrafficStream::~TrafficStream() { close(); }

void TrafficStream::open() {
  close();
  parser_.reset();
  reply_ = api_.open_stream(QStringLiteral("/v1/traffic"));
  connect(reply_, &QNetworkReply::readyRead, this, &TrafficStream::on_ready_read);
  connect(reply_, &QNetworkReply::finished, this, &TrafficStream::on_finished);
}

void TrafficStream::close() {
  if (!reply_) return;
  QNetworkReply* r = reply_;
  reply_ = nullptr;
  r->disconnect(this);
  r->abort();
  r->deleteLater();
}

void TrafficStream::on_ready_read() {
  if (!reply_) return;
  const int status = reply_->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
  // An error answer (401) is a JSON body, not events; on_finished reports it.
  if (status != 200) return;
  for (const auto& data : parser_.feed(reply_->readAll())) {
    const auto doc = QJsonDocument::fromJson(data);
    if (doc.isObject()) emit event_received(doc.object());
  }
}

void TrafficStream::on_finished() {
  if (!reply_) return;
  QNetworkReply* r = reply_;
  reply_ = nullptr;
  ApiResult result = api_.result_of(r);
  r->deleteLater();
  QString reason = result.error;
  if (reason.isEmpty() || result.ok()) reason = QStringLiteral("the daemon ended the event stream");
  if (!result.answered() && r->error() == QNetworkReply::OperationCanceledError)
    reason = QStringLiteral("the daemon sent no event for %1 s").arg(ApiClient::kStreamSilenceMs / 1000);
  emit ended(reason);
}

}  // namespace braid::gui
