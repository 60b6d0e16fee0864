// A small HTTP/1.1 server for Braid's control API on the libuv loop: one
// request per connection (answered with Connection: close), a bearer token
// on every request, and Server-Sent Event streams for live telemetry.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include <uv.h>

#include "net/address.hpp"
#include "net/bytes.hpp"

namespace braid::control {

struct Request {
  std::string method;
  std::string path;   ///< without the query
  std::string query;  ///< after '?', undecoded
  std::map<std::string, std::string> headers;  ///< names in lower case
  std::string body;
  /// Value of query parameter @p name, or @p fallback.
  std::string param(const std::string& name, const std::string& fallback = {}) const;
};

struct Response {
  int status = 200;
  std::string body;  ///< JSON unless content_type says otherwise
  std::string content_type = "application/json";
  bool stream = false;  ///< keep the connection open as an event stream
};

/// A JSON error body {"error": message}.
Response error_response(int status, const std::string& message);

/// One request read from the start of a connection's bytes.
struct ParsedRequest {
  Parse status = Parse::need_more;  ///< need_more, done (request), or error (error)
  Request request;
  Response error;
};

/// Parses a request head and its Content-Length body (at most @p max_head
/// and @p max_body bytes). Pure: the server and the fuzzers drive it alike.
ParsedRequest parse_request(std::string_view in, size_t max_head, size_t max_body);

/// True when @p authorization is "Bearer " + @p token; constant time in the
/// token's contents.
bool bearer_matches(const std::string& authorization, const std::string& token);

class ApiServer {
 public:
  using Handler = std::function<Response(const Request&)>;
  static constexpr size_t kMaxHead = 16 * 1024;
  static constexpr size_t kMaxBody = 1024 * 1024;

  ApiServer(uv_loop_t* loop, std::string token, Handler handler);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  int listen(const Destination& at, std::string& error);
  Destination bound() const;
  /// Closes the listener and every connection.
  void close();
  /// Sends one event to every open stream.
  void broadcast(const std::string& data);
  size_t streams() const { return streams_.size(); }

  struct Conn;

 private:
  void on_conn_bytes(Conn* c);
  void respond(Conn* c, const Response& r);
  void drop(Conn* c);

  uv_loop_t* loop_;
  std::string token_;
  Handler handler_;
  uv_tcp_t* listener_ = nullptr;
  std::set<Conn*> conns_;
  std::set<Conn*> streams_;
};

}  // namespace braid::control
