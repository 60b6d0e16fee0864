// The deadline queue for framed datagrams.
#include <doctest/doctest.h>

#include "net/datagram_queue.hpp"

using namespace braid;

TEST_CASE("datagram queue: late datagrams are dropped, not delivered") {
  net::DatagramQueue q(1000, 200);
  CHECK(q.push(Bytes(10, 1), 0));
  CHECK(q.push(Bytes(10, 2), 150));
  CHECK(q.push(Bytes(10, 3), 300));
  auto f = q.pop(250);  // the first waited 250 ms > 200: dropped
  REQUIRE(f);
  CHECK((*f)[0] == 2);
  CHECK(q.dropped_late() == 1);
  f = q.pop(501);  // the third waited 201 ms
  CHECK_FALSE(f);
  CHECK(q.dropped_late() == 2);
  CHECK(q.empty());
  CHECK(q.bytes() == 0);
}

TEST_CASE("datagram queue: bounded in bytes") {
  net::DatagramQueue q(25, 200);
  CHECK(q.push(Bytes(10), 0));
  CHECK(q.push(Bytes(10), 0));
  CHECK_FALSE(q.push(Bytes(10), 0));
  CHECK(q.dropped_full() == 1);
  CHECK(q.bytes() == 20);
  CHECK(q.pop(0));
  CHECK(q.push(Bytes(10), 0));
}
