#include "gui/sse_parser.hpp"

namespace braid::gui {

QList<QByteArray> SseParser::feed(QByteArrayView bytes) {
  QList<QByteArray> out;
  partial_line_.append(bytes.data(), bytes.size());
  qsizetype start = 0;
  for (qsizetype nl; (nl = partial_line_.indexOf('\n', start)) >= 0; start = nl + 1) {
    QByteArrayView line(partial_line_.constData() + start, nl - start);
    // "\r\n" ends a line too.
    if (line.endsWith('\r')) line.chop(1);
    take_line(line, out);
  }
  partial_line_.remove(0, start);
  if (partial_line_.size() > kMaxEvent) reset();
  return out;
}

void SseParser::take_line(QByteArrayView line, QList<QByteArray>& out) {
  if (line.isEmpty()) {
    if (has_data_) out.append(data_);
    data_.clear();
    has_data_ = false;
    return;
  }
  if (line.startsWith(':')) return;  // a comment (keep-alive)
  const qsizetype colon = line.indexOf(':');
  QByteArrayView field = colon < 0 ? line : line.first(colon);
  QByteArrayView value = colon < 0 ? QByteArrayView() : line.sliced(colon + 1);
  if (value.startsWith(' ')) value = value.sliced(1);
  if (field != "data") return;  // event, id and retry do not matter here
  if (has_data_) data_.append('\n');
  data_.append(value.data(), value.size());
  has_data_ = true;
  if (data_.size() > kMaxEvent) {
    data_.clear();
    has_data_ = false;
  }
}

void SseParser::reset() {
  partial_line_.clear();
  data_.clear();
  has_data_ = false;
}

}  // namespace braid::gui
