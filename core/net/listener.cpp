#include "net/listener.hpp"

#include <unistd.h>

#include "braid/platform.hpp"
#include "net/errors.hpp"

namespace braid::net {

Listener::~Listener() { close(); }

int Listener::listen(const Destination& at, bool mptcp, AcceptFn on_accept, std::string& error, int fastopen_queue) {
  sockaddr_storage ss{};
  if (!at.to_sockaddr(ss)) {
    error = "listen address must be an IP address, got " + at.to_string();
    return UV_EINVAL;
  }
  platform::StreamSocket sock;
  if (int rc = platform::open_stream_socket(ss.ss_family, mptcp, sock); rc < 0) {
    error = "cannot create a socket: " + describe_error(rc);
    return rc;
  }
  mptcp_ = sock.mptcp;
  mptcp_error_ = sock.mptcp_error;
  if (fastopen_queue > 0) fastopen_error_ = platform::enable_fastopen_listen(sock.fd, fastopen_queue);
  tcp_ = new uv_tcp_t;
  uv_tcp_init(loop_, tcp_);
  tcp_->data = this;
  on_accept_ = std::move(on_accept);
  int rc = uv_tcp_open(tcp_, sock.fd);
  if (rc < 0) ::close(sock.fd);
  if (rc == 0) rc = uv_tcp_bind(tcp_, reinterpret_cast<const sockaddr*>(&ss), 0);
  if (rc == 0)
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(tcp_), 1024, [](uv_stream_t* server, int status) {
      if (status < 0) return;
      static_cast<Listener*>(server->data)->on_accept_(server);
    });
  if (rc < 0) {
    error = "cannot listen on " + at.to_string() + ": " + describe_error(rc);
    close();
  }
  return rc;
}

Destination Listener::bound() const {
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (tcp_) uv_tcp_getsockname(tcp_, reinterpret_cast<sockaddr*>(&ss), &len);
  return Destination::from_sockaddr(reinterpret_cast<sockaddr*>(&ss));
}

void Listener::close() {
  if (!tcp_) return;
  uv_close(reinterpret_cast<uv_handle_t*>(tcp_), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
  tcp_ = nullptr;
}

}  // namespace braid::net
