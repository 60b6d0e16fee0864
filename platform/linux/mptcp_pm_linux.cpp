// Linux implementation of the MPTCP path-manager part of braid_platform: a
// minimal generic-netlink client for the "mptcp_pm" family
// (Documentation/netlink/specs/mptcp_pm.yaml). Plain netlink sockets keep the
// dependency list short; messages are small and synchronous.
#include "braid/platform.hpp"

#include <cerrno>
#include <cstring>

#include <linux/genetlink.h>
#include <linux/mptcp.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace braid::platform {

namespace {

constexpr size_t kBufSize = 8192;

// Owns a NETLINK_GENERIC socket for the duration of one request.
class GenlSocket {
 public:
  GenlSocket() { fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC); }
  ~GenlSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  GenlSocket(const GenlSocket&) = delete;
  GenlSocket& operator=(const GenlSocket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

// Builds one generic-netlink request in a fixed buffer.
class Request {
 public:
  Request(uint16_t family, uint8_t cmd, uint8_t version, uint16_t flags) {
    std::memset(buf_, 0, sizeof buf_);
    auto* nlh = header();
    nlh->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
    nlh->nlmsg_type = family;
    nlh->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
    nlh->nlmsg_seq = 1;
    auto* g = static_cast<genlmsghdr*>(NLMSG_DATA(nlh));
    g->cmd = cmd;
    g->version = version;
  }
  void put(uint16_t type, const void* data, size_t len) {
    auto* nlh = header();
    auto* attr = reinterpret_cast<nlattr*>(buf_ + NLMSG_ALIGN(nlh->nlmsg_len));
    attr->nla_type = type;
    attr->nla_len = static_cast<uint16_t>(NLA_HDRLEN + len);
    std::memcpy(reinterpret_cast<char*>(attr) + NLA_HDRLEN, data, len);
    nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + NLA_ALIGN(attr->nla_len);
  }
  void put_u32(uint16_t type, uint32_t v) { put(type, &v, sizeof v); }
  void put_u16(uint16_t type, uint16_t v) { put(type, &v, sizeof v); }
  void put_u8(uint16_t type, uint8_t v) { put(type, &v, sizeof v); }
  /// Opens a nested attribute; pass the returned offset to end_nested().
  size_t begin_nested(uint16_t type) {
    auto* nlh = header();
    const size_t off = NLMSG_ALIGN(nlh->nlmsg_len);
    auto* attr = reinterpret_cast<nlattr*>(buf_ + off);
    attr->nla_type = static_cast<uint16_t>(type | NLA_F_NESTED);
    attr->nla_len = NLA_HDRLEN;
    nlh->nlmsg_len = static_cast<uint32_t>(off + NLA_HDRLEN);
    return off;
  }
  void end_nested(size_t off) {
    auto* attr = reinterpret_cast<nlattr*>(buf_ + off);
    attr->nla_len = static_cast<uint16_t>(header()->nlmsg_len - off);
  }
  void put_str(uint16_t type, const char* s) { put(type, s, std::strlen(s) + 1); }
  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buf_); }

 private:
  alignas(nlmsghdr) char buf_[1024];
};

// Calls fn(type, data, len) for each attribute in [p, end).
template <typename Fn>
void for_each_attr_in(const char* p, const char* end, Fn&& fn) {
  while (p + NLA_HDRLEN <= end) {
    const auto* a = reinterpret_cast<const nlattr*>(p);
    if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end) break;
    fn(static_cast<uint16_t>(a->nla_type & NLA_TYPE_MASK), p + NLA_HDRLEN, a->nla_len - NLA_HDRLEN);
    p += NLA_ALIGN(a->nla_len);
  }
}

// Calls fn(type, data, len) for each attribute after the genl header of nlh.
template <typename Fn>
void for_each_attr(const nlmsghdr* nlh, Fn&& fn) {
  for_each_attr_in(static_cast<const char*>(NLMSG_DATA(nlh)) + GENL_HDRLEN,
                   reinterpret_cast<const char*>(nlh) + nlh->nlmsg_len, fn);
}

// Sends req and reads replies until the ACK/DONE/error; on_msg sees each data
// message. Returns 0 or a negative errno from the kernel.
template <typename Fn>
int transact(GenlSocket& sock, Request& req, Fn&& on_msg) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  req.header()->nlmsg_flags |= NLM_F_ACK;
  if (::sendto(sock.fd(), req.header(), req.header()->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) < 0)
    return -errno;
  alignas(nlmsghdr) char buf[kBufSize];
  for (;;) {
    ssize_t n = ::recv(sock.fd(), buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    int len = static_cast<int>(n);
    for (auto* nlh = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
      if (nlh->nlmsg_type == NLMSG_ERROR) {
        auto* err = static_cast<nlmsgerr*>(NLMSG_DATA(nlh));
        return err->error;  // 0 is the ACK
      }
      if (nlh->nlmsg_type == NLMSG_DONE) return 0;
      on_msg(nlh);
    }
  }
}

// Resolves the numeric id of the "mptcp_pm" family (CTRL_CMD_GETFAMILY).
int resolve_family(GenlSocket& sock, uint16_t& id) {
  Request req(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, 0);
  req.put_str(CTRL_ATTR_FAMILY_NAME, MPTCP_PM_NAME);
  id = 0;
  int rc = transact(sock, req, [&](const nlmsghdr* nlh) {
    for_each_attr(nlh, [&](uint16_t type, const char* data, size_t len) {
      if (type == CTRL_ATTR_FAMILY_ID && len >= sizeof(uint16_t)) std::memcpy(&id, data, sizeof id);
    });
  });
  if (rc < 0) return rc == -ENOENT ? -EPROTONOSUPPORT : rc;
  return id ? 0 : -EPROTONOSUPPORT;
}

// Appends a nested MPTCP_PM_ATTR_ADDR describing e (address, id, flags, dev).
void put_endpoint(Request& req, const MptcpEndpoint& e, bool with_address) {
  const size_t nest = req.begin_nested(MPTCP_PM_ATTR_ADDR);
  if (with_address) {
    const uint16_t family = e.address.ss_family;
    req.put_u16(MPTCP_PM_ADDR_ATTR_FAMILY, family);
    if (family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(&e.address);
      req.put(MPTCP_PM_ADDR_ATTR_ADDR4, &sin->sin_addr, 4);
    } else if (family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&e.address);
      req.put(MPTCP_PM_ADDR_ATTR_ADDR6, &sin6->sin6_addr, 16);
    }
  }
  if (e.id) req.put_u8(MPTCP_PM_ADDR_ATTR_ID, e.id);
  req.put_u32(MPTCP_PM_ADDR_ATTR_FLAGS, e.flags);
  if (e.ifindex) req.put_u32(MPTCP_PM_ADDR_ATTR_IF_IDX, static_cast<uint32_t>(e.ifindex));
  req.end_nested(nest);
}

// Opens the socket and resolves the family, the common start of every call.
int open_pm(GenlSocket& sock, uint16_t& family) {
  if (sock.fd() < 0) return -errno;
  return resolve_family(sock, family);
}

}  // namespace

int list_mptcp_endpoints(std::vector<MptcpEndpoint>& out) {
  out.clear();
  GenlSocket sock;
  uint16_t family = 0;
  if (int rc = open_pm(sock, family); rc < 0) return rc;
  Request req(family, MPTCP_PM_CMD_GET_ADDR, MPTCP_PM_VER, NLM_F_DUMP);
  return transact(sock, req, [&](const nlmsghdr* nlh) {
    for_each_attr(nlh, [&](uint16_t type, const char* data, size_t len) {
      if (type != MPTCP_PM_ATTR_ADDR) return;
      MptcpEndpoint e;
      for_each_attr_in(data, data + len, [&](uint16_t t, const char* v, size_t n) {
        if (t == MPTCP_PM_ADDR_ATTR_ID && n >= 1) e.id = static_cast<uint8_t>(*v);
        if (t == MPTCP_PM_ADDR_ATTR_FLAGS && n >= 4) std::memcpy(&e.flags, v, 4);
        if (t == MPTCP_PM_ADDR_ATTR_IF_IDX && n >= 4) std::memcpy(&e.ifindex, v, 4);
        if (t == MPTCP_PM_ADDR_ATTR_ADDR4 && n >= 4) {
          auto* sin = reinterpret_cast<sockaddr_in*>(&e.address);
          sin->sin_family = AF_INET;
          std::memcpy(&sin->sin_addr, v, 4);
        }
        if (t == MPTCP_PM_ADDR_ATTR_ADDR6 && n >= 16) {
          auto* sin6 = reinterpret_cast<sockaddr_in6*>(&e.address);
          sin6->sin6_family = AF_INET6;
          std::memcpy(&sin6->sin6_addr, v, 16);
        }
      });
      out.push_back(e);
    });
  });
}

int add_mptcp_endpoint(const MptcpEndpoint& e) {
  GenlSocket sock;
  uint16_t family = 0;
  if (int rc = open_pm(sock, family); rc < 0) return rc;
  Request req(family, MPTCP_PM_CMD_ADD_ADDR, MPTCP_PM_VER, 0);
  put_endpoint(req, e, true);
  return transact(sock, req, [](const nlmsghdr*) {});
}

int delete_mptcp_endpoint(uint8_t id) {
  GenlSocket sock;
  uint16_t family = 0;
  if (int rc = open_pm(sock, family); rc < 0) return rc;
  Request req(family, MPTCP_PM_CMD_DEL_ADDR, MPTCP_PM_VER, 0);
  MptcpEndpoint e;
  e.id = id;
  put_endpoint(req, e, false);
  return transact(sock, req, [](const nlmsghdr*) {});
}

int set_mptcp_endpoint_backup(const MptcpEndpoint& e, bool backup) {
  GenlSocket sock;
  uint16_t family = 0;
  if (int rc = open_pm(sock, family); rc < 0) return rc;
  Request req(family, MPTCP_PM_CMD_SET_FLAGS, MPTCP_PM_VER, 0);
  MptcpEndpoint changed = e;
  changed.flags = backup ? (e.flags | kEndpointBackup) : (e.flags & ~uint32_t{kEndpointBackup});
  changed.ifindex = 0;
  put_endpoint(req, changed, true);
  return transact(sock, req, [](const nlmsghdr*) {});
}

int get_mptcp_limits(MptcpLimits& out) {
  GenlSocket sock;
  if (sock.fd() < 0) return -errno;
  uint16_t family = 0;
  if (int rc = resolve_family(sock, family); rc < 0) return rc;
  Request req(family, MPTCP_PM_CMD_GET_LIMITS, MPTCP_PM_VER, 0);
  out = MptcpLimits{};
  return transact(sock, req, [&](const nlmsghdr* nlh) {
    for_each_attr(nlh, [&](uint16_t type, const char* data, size_t len) {
      if (len < sizeof(uint32_t)) return;
      if (type == MPTCP_PM_ATTR_SUBFLOWS) std::memcpy(&out.subflows, data, sizeof(uint32_t));
      if (type == MPTCP_PM_ATTR_RCV_ADD_ADDRS) std::memcpy(&out.add_addr_accepted, data, sizeof(uint32_t));
    });
  });
}

int set_mptcp_limits(const MptcpLimits& limits) {
  GenlSocket sock;
  if (sock.fd() < 0) return -errno;
  uint16_t family = 0;
  if (int rc = resolve_family(sock, family); rc < 0) return rc;
  Request req(family, MPTCP_PM_CMD_SET_LIMITS, MPTCP_PM_VER, 0);
  req.put_u32(MPTCP_PM_ATTR_RCV_ADD_ADDRS, limits.add_addr_accepted);
  req.put_u32(MPTCP_PM_ATTR_SUBFLOWS, limits.subflows);
  return transact(sock, req, [](const nlmsghdr*) {});
}

}  // namespace braid::platform
