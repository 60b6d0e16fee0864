// Server-Sent Events framing (WHATWG HTML, "Parsing an event stream"): lines
// of "field: value", an event ends at a blank line, "data" lines join with
// "\n", lines starting with ':' are comments. Pure: bytes in, events out, so
// a unit test can feed it any split of a stream.
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

namespace braid::gui {

class SseParser {
 public:
  /// An event larger than this is a broken stream; it is dropped.
  static constexpr qsizetype kMaxEvent = 1 << 20;

  /// Feeds the next bytes; returns the data of every event they complete.
  QList<QByteArray> feed(QByteArrayView bytes);
  void reset();

 private:
  void take_line(QByteArrayView line, QList<QByteArray>& out);

  QByteArray partial_line_;
  QByteArray data_;
  bool has_data_ = false;
};

}  // namespace braid::gui
