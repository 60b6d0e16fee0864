// gui/sse_parser: the event-stream framing the daemon's /v1/traffic uses,
// fed whole, split at every byte, with CRLF, comments and multi-line data.
#include <QtTest>

#include "gui/sse_parser.hpp"

using braid::gui::SseParser;

class SseParserTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void one_event_per_blank_line() {
    SseParser p;
    const auto events = p.feed("data: {\"type\":\"traffic\"}\n\ndata: {\"type\":\"paths\"}\n\n");
    QCOMPARE(events.size(), 2);
    QCOMPARE(events[0], QByteArray("{\"type\":\"traffic\"}"));
    QCOMPARE(events[1], QByteArray("{\"type\":\"paths\"}"));
  }

  void any_split_gives_the_same_events() {
    const QByteArray stream = "data: {\"a\":1}\n\n: keep-alive\n\ndata: {\"b\":2}\r\n\r\ndata:{\"c\":3}\n\n";
    for (int chunk = 1; chunk <= stream.size(); ++chunk) {
      SseParser p;
      QList<QByteArray> events;
      for (int i = 0; i < stream.size(); i += chunk) events += p.feed(stream.mid(i, chunk));
      QCOMPARE(events, (QList<QByteArray>{"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"}));
    }
  }

  void multi_line_data_joins_with_newline() {
    SseParser p;
    QCOMPARE(p.feed("data: first\ndata: second\n\n"), QList<QByteArray>{"first\nsecond"});
  }

  void other_fields_and_comments_are_ignored() {
    SseParser p;
    QCOMPARE(p.feed("event: traffic\nid: 7\n: comment\nretry: 100\n\n"), QList<QByteArray>{});
    QCOMPARE(p.feed("event: x\ndata: y\n\n"), QList<QByteArray>{"y"});
  }

  void an_unfinished_event_waits() {
    SseParser p;
    QVERIFY(p.feed("data: {\"partial\"").isEmpty());
    QVERIFY(p.feed(":true}\n").isEmpty());
    QCOMPARE(p.feed("\n"), QList<QByteArray>{"{\"partial\":true}"});
  }

  void an_oversized_line_is_dropped_not_kept() {
    SseParser p;
    QVERIFY(p.feed(QByteArray(SseParser::kMaxEvent + 10, 'x')).isEmpty());
    QCOMPARE(p.feed("\ndata: ok\n\n"), QList<QByteArray>{"ok"});
  }
};

QTEST_APPLESS_MAIN(SseParserTest)
#include "sse_parser_test.moc"
