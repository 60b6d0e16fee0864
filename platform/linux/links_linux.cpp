// Linux implementation of interface discovery for braid_platform: rtnetlink
// dumps for links, addresses and default routes; a subscribed rtnetlink
// socket for live changes; sysfs for the link kind.
#include "braid/platform.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <string>

#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace braid::platform {

namespace {

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// Sends one dump request of @p type and calls fn(nlh) per reply message.
template <typename Fn>
int rtnl_dump(uint16_t type, unsigned char family, Fn&& fn) {
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return -errno;
  struct {
    nlmsghdr nlh;
    rtgenmsg g;
  } req{};
  req.nlh.nlmsg_len = NLMSG_LENGTH(sizeof(rtgenmsg));
  req.nlh.nlmsg_type = type;
  req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.nlh.nlmsg_seq = 1;
  req.g.rtgen_family = family;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd, &req, req.nlh.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
    int e = -errno;
    ::close(fd);
    return e;
  }
  alignas(nlmsghdr) char buf[32768];
  int result = 0;
  for (bool done = false; !done;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      result = -errno;
      break;
    }
    int len = static_cast<int>(n);
    for (auto* nlh = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
      if (nlh->nlmsg_type == NLMSG_DONE) {
        done = true;
        break;
      }
      if (nlh->nlmsg_type == NLMSG_ERROR) {
        result = static_cast<nlmsgerr*>(NLMSG_DATA(nlh))->error;
        done = true;
        break;
      }
      fn(nlh);
    }
  }
  ::close(fd);
  return result;
}

}  // namespace

LinkKind classify_link(const std::string& dir, const std::string& name) {
  const std::string base = dir + "/" + name;
  std::ifstream uevent(base + "/uevent");
  for (std::string line; std::getline(uevent, line);) {
    if (line == "DEVTYPE=wlan") return LinkKind::wifi;
    if (line == "DEVTYPE=wwan") return LinkKind::cellular;
  }
  if (exists(base + "/phy80211") || exists(base + "/wireless")) return LinkKind::wifi;
  std::ifstream type(base + "/type");
  int arphrd = -1;
  type >> arphrd;
  // Raw-IP modems (qmi_wwan in raw-ip mode) show ARPHRD_NONE and a wwan parent.
  if (arphrd == ARPHRD_NONE && exists(base + "/device") && exists(base + "/qmi")) return LinkKind::cellular;
  if (arphrd == ARPHRD_ETHER) return LinkKind::ethernet;
  return LinkKind::other;
}

int list_interfaces(std::vector<Interface>& out) {
  out.clear();
  std::map<int, Interface> by_index;
  int rc = rtnl_dump(RTM_GETLINK, AF_UNSPEC, [&](const nlmsghdr* nlh) {
    if (nlh->nlmsg_type != RTM_NEWLINK) return;
    const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(nlh));
    Interface itf;
    itf.index = ifi->ifi_index;
    itf.loopback = ifi->ifi_flags & IFF_LOOPBACK;
    itf.up = (ifi->ifi_flags & IFF_UP) && (ifi->ifi_flags & IFF_RUNNING);
    int len = static_cast<int>(IFLA_PAYLOAD(nlh));
    for (auto* rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
      if (rta->rta_type == IFLA_IFNAME) itf.name = static_cast<const char*>(RTA_DATA(rta));
    }
    by_index[itf.index] = itf;
  });
  if (rc < 0) return rc;
  rc = rtnl_dump(RTM_GETADDR, AF_UNSPEC, [&](const nlmsghdr* nlh) {
    if (nlh->nlmsg_type != RTM_NEWADDR) return;
    const auto* ifa = static_cast<const ifaddrmsg*>(NLMSG_DATA(nlh));
    // Link-local and host-scope addresses cannot carry a path to the internet.
    if (ifa->ifa_scope != RT_SCOPE_UNIVERSE) return;
    auto it = by_index.find(static_cast<int>(ifa->ifa_index));
    if (it == by_index.end()) return;
    int len = static_cast<int>(IFA_PAYLOAD(nlh));
    const void* local = nullptr;
    const void* address = nullptr;
    for (auto* rta = IFA_RTA(ifa); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
      if (rta->rta_type == IFA_LOCAL) local = RTA_DATA(rta);
      if (rta->rta_type == IFA_ADDRESS) address = RTA_DATA(rta);
    }
    const void* a = local ? local : address;
    if (!a) return;
    sockaddr_storage ss{};
    if (ifa->ifa_family == AF_INET) {
      auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
      sin->sin_family = AF_INET;
      std::memcpy(&sin->sin_addr, a, 4);
    } else if (ifa->ifa_family == AF_INET6) {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
      sin6->sin6_family = AF_INET6;
      std::memcpy(&sin6->sin6_addr, a, 16);
    } else {
      return;
    }
    it->second.addresses.push_back(ss);
  });
  if (rc < 0) return rc;
  rc = rtnl_dump(RTM_GETROUTE, AF_UNSPEC, [&](const nlmsghdr* nlh) {
    if (nlh->nlmsg_type != RTM_NEWROUTE) return;
    const auto* rtm = static_cast<const rtmsg*>(NLMSG_DATA(nlh));
    if (rtm->rtm_dst_len != 0 || rtm->rtm_type != RTN_UNICAST) return;
    int len = static_cast<int>(RTM_PAYLOAD(nlh));
    for (auto* rta = RTM_RTA(rtm); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
      if (rta->rta_type != RTA_OIF) continue;
      int oif = 0;
      std::memcpy(&oif, RTA_DATA(rta), sizeof oif);
      if (auto it = by_index.find(oif); it != by_index.end()) it->second.has_default_route = true;
    }
  });
  if (rc < 0) return rc;
  for (auto& [index, itf] : by_index) {
    itf.kind = itf.loopback ? LinkKind::other : classify_link("/sys/class/net", itf.name);
    out.push_back(std::move(itf));
  }
  return 0;
}

LinkMonitor::~LinkMonitor() {
  if (fd_ >= 0) ::close(fd_);
}

int LinkMonitor::open() {
  fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (fd_ < 0) return -errno;
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    int e = -errno;
    ::close(fd_);
    fd_ = -1;
    return e;
  }
  return 0;
}

bool LinkMonitor::drain() {
  bool changed = false;
  alignas(nlmsghdr) char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) {
      // ENOBUFS: we missed events; treat it as "something changed" and re-list.
      if (errno == ENOBUFS) {
        changed = true;
        continue;
      }
      break;
    }
    int len = static_cast<int>(n);
    for (auto* nlh = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
      switch (nlh->nlmsg_type) {
        case RTM_NEWLINK:
        case RTM_DELLINK:
        case RTM_NEWADDR:
        case RTM_DELADDR:
        case RTM_NEWROUTE:
        case RTM_DELROUTE:
          changed = true;
          break;
        default:
          break;
      }
    }
  }
  return changed;
}

}  // namespace braid::platform
