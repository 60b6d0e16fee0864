// A client for the control API, used by the `braid` CLI verbs: one request
// per connection on a private libuv loop, or an event stream read for a
// bounded time.
#pragma once

#include <functional>
#include <string>

#include "net/address.hpp"

namespace braid::control {

struct ClientResponse {
  int status = 0;
  std::string body;
};

class ApiClient {
 public:
  ApiClient(Destination api, std::string token) : api_(std::move(api)), token_(std::move(token)) {}

  /// Sends one request and waits for the whole response (at most @p timeout_ms).
  /// False with @p error when the daemon cannot be reached.
  bool request(const std::string& method, const std::string& path, const std::string& body, ClientResponse& out,
               std::string& error, uint64_t timeout_ms = 5000);

  /// Reads Server-Sent Events from @p path, calling on_event with each data
  /// payload until it returns false or @p seconds pass (0: no limit).
  bool stream(const std::string& path, const std::function<bool(const std::string&)>& on_event, std::string& error,
              uint64_t seconds = 0);

 private:
  Destination api_;
  std::string token_;
};

}  // namespace braid::control
