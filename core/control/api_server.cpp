#include "control/api_server.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

#include <nlohmann/json.hpp>

#include "http/request_head.hpp"
#include "net/errors.hpp"
#include "net/log.hpp"

namespace braid::control {

struct ApiServer::Conn {
  uv_tcp_t tcp;
  ApiServer* server;
  std::string in;
  bool answered = false;
};

namespace {

struct Write {
  uv_write_t req;
  std::string data;
};

void write_and_maybe_close(uv_stream_t* s, std::string data, bool close_after) {
  auto* w = new Write{{}, std::move(data)};
  w->req.data = close_after ? s : nullptr;
  uv_buf_t b = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  int rc = uv_write(&w->req, s, &b, 1, [](uv_write_t* req, int) {
    auto* w = reinterpret_cast<Write*>(req);
    auto* to_close = static_cast<uv_stream_t*>(req->data);
    delete w;
    if (to_close && !uv_is_closing(reinterpret_cast<uv_handle_t*>(to_close)))
      uv_close(reinterpret_cast<uv_handle_t*>(to_close), [](uv_handle_t* h) { delete static_cast<ApiServer::Conn*>(h->data); });
  });
  if (rc < 0) delete w;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

std::string Request::param(const std::string& name, const std::string& fallback) const {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    std::string kv = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    auto eq = kv.find('=');
    if (kv.substr(0, eq) == name) return eq == std::string::npos ? std::string() : kv.substr(eq + 1);
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return fallback;
}

Response error_response(int status, const std::string& message) {
  Response r;
  r.status = status;
  // Messages quote what the client sent (a path, a name), which need not be
  // UTF-8: replace bad bytes rather than throw from dump().
  r.body = nlohmann::json{{"error", message}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

ParsedRequest parse_request(std::string_view in, size_t max_head, size_t max_body) {
  ParsedRequest out;
  auto head = http::parse_head(bytes_of(in.data(), in.size()), max_head);
  if (head.status == Parse::need_more) return out;
  if (head.status == Parse::error) {
    out.status = Parse::error;
    out.error = error_response(head.http_status, head.error);
    return out;
  }
  size_t length = 0;
  if (const auto* cl = head.head.find("content-length")) length = std::strtoull(cl->c_str(), nullptr, 10);
  if (length > max_body) {
    out.status = Parse::error;
    out.error = error_response(413, "request body larger than " + std::to_string(max_body) + " bytes");
    return out;
  }
  if (in.size() < head.consumed + length) return out;
  Request& req = out.request;
  req.method = head.head.method;
  const auto& target = head.head.target;
  const auto q = target.find('?');
  req.path = target.substr(0, q);
  if (q != std::string::npos) req.query = target.substr(q + 1);
  for (const auto& h : head.head.headers) req.headers[lower(h.name)] = h.value;
  req.body = std::string(in.substr(head.consumed, length));
  out.status = Parse::done;
  return out;
}

bool bearer_matches(const std::string& got, const std::string& token) {
  // Compare without an early exit.
  const std::string expected = "Bearer " + token;
  unsigned char diff = got.size() != expected.size();
  for (size_t i = 0; i < std::min(got.size(), expected.size()); ++i)
    diff |= static_cast<unsigned char>(got[i] ^ expected[i]);
  return diff == 0;
}

ApiServer::ApiServer(uv_loop_t* loop, std::string token, Handler handler)
    : loop_(loop), token_(std::move(token)), handler_(std::move(handler)) {}

ApiServer::~ApiServer() { close(); }

int ApiServer::listen(const Destination& at, std::string& error) {
  sockaddr_storage ss{};
  if (!at.to_sockaddr(ss)) {
    error = "control.listen must be an IP address";
    return UV_EINVAL;
  }
  listener_ = new uv_tcp_t;
  uv_tcp_init(loop_, listener_);
  listener_->data = this;
  int rc = uv_tcp_bind(listener_, reinterpret_cast<const sockaddr*>(&ss), 0);
  if (rc == 0)
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(listener_), 64, [](uv_stream_t* server, int status) {
      if (status < 0) return;
      auto* self = static_cast<ApiServer*>(server->data);
      auto* c = new Conn{};
      c->server = self;
      uv_tcp_init(self->loop_, &c->tcp);
      c->tcp.data = c;
      if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&c->tcp)) < 0) {
        uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
        return;
      }
      self->conns_.insert(c);
      uv_read_start(
          reinterpret_cast<uv_stream_t*>(&c->tcp),
          [](uv_handle_t*, size_t, uv_buf_t* buf) {
            static char scratch[16384];
            *buf = uv_buf_init(scratch, sizeof scratch);
          },
          [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
            auto* c = static_cast<Conn*>(s->data);
            if (n < 0) {
              c->server->drop(c);
              return;
            }
            c->in.append(buf->base, static_cast<size_t>(n));
            c->server->on_conn_bytes(c);
          });
    });
  if (rc < 0) {
    error = "cannot listen on " + at.to_string() + ": " + net::describe_error(rc);
    close();
  }
  return rc;
}

Destination ApiServer::bound() const {
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (listener_) uv_tcp_getsockname(listener_, reinterpret_cast<sockaddr*>(&ss), &len);
  return Destination::from_sockaddr(reinterpret_cast<sockaddr*>(&ss));
}

void ApiServer::drop(Conn* c) {
  conns_.erase(c);
  streams_.erase(c);
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&c->tcp)))
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
}

void ApiServer::on_conn_bytes(Conn* c) {
  if (c->answered) {
    // Streams take no more input; anything sent is ignored (bounded).
    c->in.clear();
    return;
  }
  auto parsed = parse_request(c->in, kMaxHead, kMaxBody);
  if (parsed.status == Parse::need_more) return;
  if (parsed.status == Parse::error) {
    respond(c, parsed.error);
    return;
  }
  Request& req = parsed.request;
  c->in.clear();
  // Every request carries the token.
  if (!bearer_matches(req.headers["authorization"], token_)) {
    respond(c, error_response(401, "missing or wrong bearer token (Authorization: Bearer <the token in the "
                                   "daemon's api-token file>)"));
    return;
  }
  Response r;
  try {
    r = handler_(req);
  } catch (const std::exception& e) {
    r = error_response(500, e.what());
  }
  respond(c, r);
}

void ApiServer::respond(Conn* c, const Response& r) {
  c->answered = true;
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + http::reason_phrase(r.status) + "\r\n";
  if (r.stream) {
    out += "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: keep-alive\r\n\r\n";
    streams_.insert(c);
    write_and_maybe_close(reinterpret_cast<uv_stream_t*>(&c->tcp), out + r.body, false);
    return;
  }
  out += "Content-Type: " + r.content_type + "\r\nContent-Length: " + std::to_string(r.body.size()) +
         "\r\nConnection: close\r\n\r\n" + r.body;
  conns_.erase(c);
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&c->tcp));
  write_and_maybe_close(reinterpret_cast<uv_stream_t*>(&c->tcp), std::move(out), true);
}

void ApiServer::broadcast(const std::string& data) {
  for (Conn* c : std::set<Conn*>(streams_)) {
    // A client that stopped reading is dropped rather than buffered forever.
    if (uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(&c->tcp)) > 1024 * 1024) {
      drop(c);
      continue;
    }
    write_and_maybe_close(reinterpret_cast<uv_stream_t*>(&c->tcp), "data: " + data + "\n\n", false);
  }
}

void ApiServer::close() {
  for (Conn* c : std::set<Conn*>(conns_)) drop(c);
  if (listener_) {
    uv_close(reinterpret_cast<uv_handle_t*>(listener_), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
    listener_ = nullptr;
  }
}

}  // namespace braid::control
