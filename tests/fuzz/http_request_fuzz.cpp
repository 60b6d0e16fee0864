// The HTTP proxy front end's codec: a request head from an application
// (CONNECT or absolute-form), the head Braid sends to the origin for it, the
// Proxy-Authorization credentials, and the origin's response head rewrite.
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "http/request_head.hpp"

using namespace braid;

namespace {

void check_request(ByteSpan in, size_t max_head) {
  auto r = http::parse_request_head(in, max_head);
  if (r.status == Parse::error) {
    FUZZ_CHECK(r.http_status == 400 || r.http_status == 431 || r.http_status == 501);
    FUZZ_CHECK(!r.error.empty());
    return;
  }
  if (r.status != Parse::done) return;
  FUZZ_CHECK(r.consumed > 0 && r.consumed <= in.size() && r.consumed <= max_head);
  FUZZ_CHECK(r.head.destination.port != 0);
  http::proxy_basic_credentials(r.head);
  if (r.head.is_connect) return;
  // The head Braid sends on must be one well-formed request, the whole of
  // it: anything else would let a client smuggle a second request past the
  // rewrite or change how the origin frames the first.
  const std::string out = http::rewrite_for_origin(r.head);
  FUZZ_CHECK(out.size() >= 4 && out.compare(out.size() - 4, 4, "\r\n\r\n") == 0);
  auto again = http::parse_head(bytes_of(out), out.size() + 1);
  FUZZ_CHECK(again.status == Parse::done);
  FUZZ_CHECK(again.consumed == out.size());
  FUZZ_CHECK(again.head.method == r.head.method);
  FUZZ_CHECK(again.head.target == r.head.origin_target);
}

void check_response(std::string_view in) {
  auto r = http::rewrite_response_head(in);
  if (r.status == Parse::need_more) {
    FUZZ_CHECK(r.consumed == 0);
    return;
  }
  if (r.consumed == 0) return;  // an error before any head ended
  FUZZ_CHECK(r.consumed <= in.size());
  FUZZ_CHECK(r.head.size() >= 4 && r.head.compare(r.head.size() - 4, 4, "\r\n\r\n") == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteSpan in = bytes_of(data, size);
  check_request(in, http::kDefaultMaxHead);
  check_request(in, 256);  // the "head too large" path on small inputs
  check_response(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
