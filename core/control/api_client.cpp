#include "control/api_client.hpp"

#include <cstdlib>

#include <uv.h>

#include "net/errors.hpp"

namespace braid::control {

namespace {

// One exchange on a private loop: connect, write the request, read until the
// server closes (or the consumer says stop), bounded by a timer.
struct Exchange {
  uv_loop_t loop;
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_connect_t connect;
  uv_write_t write;
  std::string request;
  std::string received;
  int error = 0;
  bool timed_out = false;
  std::function<bool(Exchange&)> on_data;  ///< false: stop reading

  void finish() {
    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&tcp))) uv_close(reinterpret_cast<uv_handle_t*>(&tcp), nullptr);
    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&timer)))
      uv_close(reinterpret_cast<uv_handle_t*>(&timer), nullptr);
  }
};

bool run_exchange(Exchange& x, const Destination& api, uint64_t timeout_ms, std::string& error) {
  sockaddr_storage ss{};
  if (!api.to_sockaddr(ss)) {
    error = "the control API address must be an IP address";
    return false;
  }
  uv_loop_init(&x.loop);
  uv_tcp_init(&x.loop, &x.tcp);
  uv_timer_init(&x.loop, &x.timer);
  x.tcp.data = &x;
  x.timer.data = &x;
  x.connect.data = &x;
  x.write.data = &x;
  if (timeout_ms)
    uv_timer_start(
        &x.timer,
        [](uv_timer_t* t) {
          auto* x = static_cast<Exchange*>(t->data);
          x->timed_out = true;
          x->finish();
        },
        timeout_ms, 0);
  int rc = uv_tcp_connect(&x.connect, &x.tcp, reinterpret_cast<const sockaddr*>(&ss), [](uv_connect_t* c, int status) {
    auto* x = static_cast<Exchange*>(c->data);
    if (status < 0) {
      if (status != UV_ECANCELED) x->error = status;
      x->finish();
      return;
    }
    uv_buf_t b = uv_buf_init(x->request.data(), static_cast<unsigned>(x->request.size()));
    uv_write(&x->write, reinterpret_cast<uv_stream_t*>(&x->tcp), &b, 1, [](uv_write_t*, int) {});
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&x->tcp),
        [](uv_handle_t*, size_t, uv_buf_t* buf) {
          static char scratch[65536];
          *buf = uv_buf_init(scratch, sizeof scratch);
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
          auto* x = static_cast<Exchange*>(s->data);
          if (n < 0) {
            if (n != UV_EOF) x->error = static_cast<int>(n);
            x->finish();
            return;
          }
          x->received.append(buf->base, static_cast<size_t>(n));
          if (x->on_data && !x->on_data(*x)) x->finish();
        });
  });
  if (rc < 0) x.error = rc;
  if (rc < 0) x.finish();
  uv_run(&x.loop, UV_RUN_DEFAULT);
  uv_loop_close(&x.loop);
  if (x.error) {
    error = "the braid daemon does not answer at " + api.to_string() + ": " + net::describe_error(x.error) +
            " (is `braid up` running?)";
    return false;
  }
  return true;
}

std::string make_request(const std::string& method, const std::string& path, const std::string& host,
                         const std::string& token, const std::string& body) {
  std::string r = method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + token + "\r\n";
  if (!body.empty() || method == "PUT" || method == "POST")
    r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + body;
}

}  // namespace

bool ApiClient::request(const std::string& method, const std::string& path, const std::string& body,
                        ClientResponse& out, std::string& error, uint64_t timeout_ms) {
  Exchange x;
  x.request = make_request(method, path, api_.to_string(), token_, body);
  if (!run_exchange(x, api_, timeout_ms, error)) return false;
  if (x.timed_out && x.received.empty()) {
    error = "the braid daemon at " + api_.to_string() + " did not answer within " + std::to_string(timeout_ms) + " ms";
    return false;
  }
  const auto head_end = x.received.find("\r\n\r\n");
  if (x.received.compare(0, 5, "HTTP/") != 0 || head_end == std::string::npos) {
    error = "the control API sent something that is not HTTP";
    return false;
  }
  out.status = std::atoi(x.received.c_str() + 9);
  out.body = x.received.substr(head_end + 4);
  return true;
}

bool ApiClient::stream(const std::string& path, const std::function<bool(const std::string&)>& on_event,
                       std::string& error, uint64_t seconds) {
  Exchange x;
  x.request = make_request("GET", path, api_.to_string(), token_, {});
  bool head_done = false;
  int status = 0;
  x.on_data = [&](Exchange& ex) {
    if (!head_done) {
      const auto end = ex.received.find("\r\n\r\n");
      if (end == std::string::npos) return true;
      if (ex.received.compare(0, 5, "HTTP/") != 0 || end < 12) return false;  // not an HTTP response
      status = std::atoi(ex.received.c_str() + 9);
      head_done = true;
      ex.received.erase(0, end + 4);
      if (status != 200) return false;
    }
    // Events are "data: ...\n\n".
    for (size_t end; (end = ex.received.find("\n\n")) != std::string::npos;) {
      std::string event = ex.received.substr(0, end);
      ex.received.erase(0, end + 2);
      if (event.rfind("data: ", 0) == 0 && !on_event(event.substr(6))) return false;
    }
    return true;
  };
  if (!run_exchange(x, api_, seconds * 1000, error)) return false;
  if (status != 200) {
    error = status ? "the control API answered " + std::to_string(status) + ": " + x.received
                   : "the control API sent no event stream";
    return false;
  }
  return true;
}

}  // namespace braid::control
