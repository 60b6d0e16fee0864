// Linux implementation of the socket part of braid_platform: MPTCP socket
// creation, fallback detection and per-subflow statistics.
//
// <linux/tcp.h> and <netinet/tcp.h> cannot be included together; we use the
// kernel's struct tcp_info because it carries the byte counters we need.
#include "braid/platform.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <linux/mptcp.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef SOL_MPTCP
#define SOL_MPTCP 284
#endif

namespace braid::platform {

namespace {

// Debian 12's headers carry these; keep local copies of the layouts we rely on
// so that the code states exactly what it reads (include/uapi/linux/mptcp.h).
struct SubflowData {
  uint32_t size_subflow_data;
  uint32_t num_subflows;
  uint32_t size_kernel;
  uint32_t size_user;
};
static_assert(sizeof(SubflowData) == 16);

struct SubflowAddrs {
  union {
    sockaddr sa;
    sockaddr_in sin;
    sockaddr_in6 sin6;
    sockaddr_storage ss;
  } local;
  union {
    sockaddr sa;
    sockaddr_in sin;
    sockaddr_in6 sin6;
    sockaddr_storage ss;
  } remote;
};
static_assert(sizeof(SubflowAddrs) == 256);

constexpr int kMaxSubflows = 16;

// Calls getsockopt(SOL_MPTCP, optname) with a struct mptcp_subflow_data header
// followed by room for kMaxSubflows elements of elem_size bytes.
int get_subflow_array(int fd, int optname, size_t elem_size, std::vector<unsigned char>& buf,
                      uint32_t& count, uint32_t& stride) {
  buf.assign(sizeof(SubflowData) + elem_size * kMaxSubflows, 0);
  SubflowData head{};
  head.size_subflow_data = sizeof(SubflowData);
  head.size_user = static_cast<uint32_t>(elem_size);
  std::memcpy(buf.data(), &head, sizeof head);
  socklen_t len = static_cast<socklen_t>(buf.size());
  if (getsockopt(fd, SOL_MPTCP, optname, buf.data(), &len) < 0) return -errno;
  std::memcpy(&head, buf.data(), sizeof head);
  // The kernel reports how many subflows exist and how many bytes of each it
  // filled (min of its size and ours); only read what was written.
  const uint32_t room = (static_cast<uint32_t>(len) - sizeof(SubflowData)) / static_cast<uint32_t>(elem_size);
  count = head.num_subflows < room ? head.num_subflows : room;
  stride = static_cast<uint32_t>(elem_size);
  return 0;
}

}  // namespace

int open_stream_socket(int family, bool want_mptcp, StreamSocket& out) {
  out = StreamSocket{};
  const int type = SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC;
  if (want_mptcp) {
    int fd = ::socket(family, type, IPPROTO_MPTCP);
    if (fd >= 0) {
      out.fd = fd;
      out.mptcp = true;
      return 0;
    }
    // EPROTONOSUPPORT: kernel without MPTCP; ENOPROTOOPT: net.mptcp.enabled=0;
    // EINVAL: very old kernels. Anything else is a real failure.
    if (errno != EPROTONOSUPPORT && errno != ENOPROTOOPT && errno != EINVAL) return -errno;
    out.mptcp_error = -errno;
  }
  int fd = ::socket(family, type, IPPROTO_TCP);
  if (fd < 0) return -errno;
  out.fd = fd;
  return 0;
}

int bind_to_device(int fd, const std::string& ifname) {
  if (::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname.c_str(), static_cast<socklen_t>(ifname.size())) < 0)
    return -errno;
  return 0;
}

int enable_fastopen_connect(int fd) {
  // Linux 4.11 for TCP; MPTCP sockets pass it to their first subflow (6.2).
  const int on = 1;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &on, sizeof on) < 0) return -errno;
  return 0;
}

int send_in_syn(int fd, const char* data, size_t len) {
  const ssize_t n = ::send(fd, data, len, MSG_NOSIGNAL);
  if (n >= 0) return static_cast<int>(n);
  // EINPROGRESS: no cookie yet, the SYN left without data (it asked for a
  // cookie); the bytes go again once the connection is up.
  if (errno == EINPROGRESS || errno == EAGAIN) return 0;
  return -errno;
}

int enable_fastopen_listen(int fd, int queue) {
  if (::setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN, &queue, sizeof queue) < 0) return -errno;
  return 0;
}

int fastopen_server_sysctl(bool enable_server, FastOpenSysctl& out) {
  // Per network namespace since Linux 4.12.
  const char* path = "/proc/sys/net/ipv4/tcp_fastopen";
  out = FastOpenSysctl{};
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  char buf[32] = {};
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  const int read_errno = errno;
  ::close(fd);
  if (n <= 0) return n < 0 ? -read_errno : -EIO;
  out.before = out.after = std::atoi(buf);
  if (!enable_server || (out.before & kFastOpenServer)) return 0;
  fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  const std::string value = std::to_string(out.before | kFastOpenServer) + "\n";
  const ssize_t w = ::write(fd, value.data(), value.size());
  const int write_errno = errno;
  ::close(fd);
  if (w != static_cast<ssize_t>(value.size())) return w < 0 ? -write_errno : -EIO;
  out.after = out.before | kFastOpenServer;
  return 0;
}

std::string describe_mptcp_error(int negative_errno) {
  switch (-negative_errno) {
    case 0:
      return "MPTCP available";
    case EPROTONOSUPPORT:
      return "this kernel has no Multipath TCP (CONFIG_MPTCP); connections use plain TCP";
    case ENOPROTOOPT:
      return "Multipath TCP is disabled (sysctl net.mptcp.enabled=0); enable it with "
             "'sysctl -w net.mptcp.enabled=1'";
    default:
      return std::string("Multipath TCP socket refused: ") + std::strerror(-negative_errno);
  }
}

bool mptcp_active(int fd) {
  mptcp_info info{};
  socklen_t len = sizeof info;
  return getsockopt(fd, SOL_MPTCP, MPTCP_INFO, &info, &len) == 0;
}

int read_subflows(int fd, std::vector<SubflowStats>& out) {
  out.clear();
  std::vector<unsigned char> tcp_buf, addr_buf;
  uint32_t n_tcp = 0, tcp_stride = 0, n_addr = 0, addr_stride = 0;
  if (int rc = get_subflow_array(fd, MPTCP_TCPINFO, sizeof(tcp_info), tcp_buf, n_tcp, tcp_stride); rc < 0)
    return rc;
  if (int rc = get_subflow_array(fd, MPTCP_SUBFLOW_ADDRS, sizeof(SubflowAddrs), addr_buf, n_addr, addr_stride);
      rc < 0)
    return rc;
  // Both calls walk the same subflow list; a subflow may come or go between
  // them, so pair only the common prefix.
  const uint32_t n = n_tcp < n_addr ? n_tcp : n_addr;
  for (uint32_t i = 0; i < n; ++i) {
    tcp_info ti{};
    std::memcpy(&ti, tcp_buf.data() + sizeof(SubflowData) + i * tcp_stride, sizeof ti);
    SubflowAddrs addrs{};
    std::memcpy(&addrs, addr_buf.data() + sizeof(SubflowData) + i * addr_stride, sizeof addrs);
    // A subflow still being set up has no remote port yet; it carried nothing.
    if (addrs.remote.sa.sa_family == AF_INET ? addrs.remote.sin.sin_port == 0 : addrs.remote.sin6.sin6_port == 0)
      continue;
    SubflowStats s;
    s.local = addrs.local.ss;
    s.remote = addrs.remote.ss;
    s.bytes_sent = ti.tcpi_bytes_sent;
    s.bytes_acked = ti.tcpi_bytes_acked;
    s.bytes_received = ti.tcpi_bytes_received;
    s.bytes_retrans = ti.tcpi_bytes_retrans;
    // tcpi_rtt only learns from what this end sends; on a download that is a
    // few ACK-sized segments. tcpi_rcv_rtt measures the receiving side.
    s.rtt_us = ti.tcpi_rtt > ti.tcpi_rcv_rtt ? ti.tcpi_rtt : ti.tcpi_rcv_rtt;
    out.push_back(s);
  }
  return static_cast<int>(out.size());
}

}  // namespace braid::platform
