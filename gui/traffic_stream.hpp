// The live feed: GET /v1/traffic, Server-Sent Events, one "traffic" event a
// second and a "paths" event after every path change. Silence longer than
// ApiClient::kStreamSilenceMs ends the stream, so a hung daemon is noticed.
#pragma once

#include <QJsonObject>
#include <QObject>
#include <QPointer>

#include "gui/sse_parser.hpp"

class QNetworkReply;

namespace braid::gui {

class ApiClient;

class TrafficStream : public QObject {
  Q_OBJECT
 public:
  explicit TrafficStream(ApiClient& api, QObject* parent = nullptr);
  ~TrafficStream() override;

  void open();
  /// Closes without emitting ended().
  void close();
  bool is_open() const { return !reply_.isNull(); }

 signals:
  void event_received(const QJsonObject& event);
  /// The stream stopped (daemon gone, stuck, or refused); @p reason says which.
  void ended(const QString& reason);

 private:
  void on_ready_read();
  void on_finished();

  ApiClient& api_;
  QPointer<QNetworkReply> reply_;
  SseParser parser_;
};

}  // namespace braid::gui
