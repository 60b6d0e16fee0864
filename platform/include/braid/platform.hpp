// braid_platform: the operating-system seam of Braid.
//
// core/ asks this interface to create sockets and to read what the kernel
// knows about them; each operating system has its own implementation file
// under platform/<os>/, chosen in CMake. Functions return negative errno
// values (libuv style) on failure, never a quiet success.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <sys/socket.h>

namespace braid::platform {

/// Result of open_stream_socket().
struct StreamSocket {
  int fd = -1;           ///< the new socket, or -1
  bool mptcp = false;    ///< true when the socket was created as IPPROTO_MPTCP
  int mptcp_error = 0;   ///< why MPTCP was refused (negative errno), 0 if it was not
};

/**
 * Creates a non-blocking, close-on-exec stream socket of @p family.
 *
 * With @p want_mptcp the socket is created with IPPROTO_MPTCP; when the kernel
 * refuses (no MPTCP support, or net.mptcp.enabled=0) a plain TCP socket is
 * created instead and the refusal is reported in mptcp_error.
 * @return 0 on success, a negative errno when no socket could be created.
 */
int open_stream_socket(int family, bool want_mptcp, StreamSocket& out);

/**
 * Pins @p fd's initial subflow to interface @p ifname (SO_BINDTODEVICE; the
 * first bind of a socket needs no privilege since Linux 5.7).
 */
int bind_to_device(int fd, const std::string& ifname);

/**
 * TCP Fast Open (RFC 7413) on a client socket (TCP_FASTOPEN_CONNECT; MPTCP
 * sockets accept it too). connect() then returns at once without sending
 * anything, and the first send_in_syn() carries its bytes in the SYN when
 * the kernel holds a cookie for the server; without one the SYN asks for a
 * cookie and the bytes must be sent again once connected.
 */
int enable_fastopen_connect(int fd);

/**
 * The first send on a socket prepared with enable_fastopen_connect(), right
 * after connect(). Returns how many bytes the SYN carries (0 when the kernel
 * had no cookie and sent a plain SYN), or a negative errno.
 */
int send_in_syn(int fd, const char* data, size_t len);

/// TCP Fast Open on a listening socket, with at most @p queue pending TFO requests.
int enable_fastopen_listen(int fd, int queue);

/// This network namespace's TCP Fast Open setting (net.ipv4.tcp_fastopen).
struct FastOpenSysctl {
  int before = -1;  ///< the value found, -1 when unreadable
  int after = -1;   ///< the value now (differs from before when raised)
};

/**
 * Reads net.ipv4.tcp_fastopen and, with @p enable_server, adds the server bit
 * (2) when it is missing (needs CAP_NET_ADMIN in the namespace's owner).
 * Returns 0, or a negative errno when the value cannot be read or written.
 */
int fastopen_server_sysctl(bool enable_server, FastOpenSysctl& out);
constexpr int kFastOpenClient = 1;  ///< net.ipv4.tcp_fastopen bit: clients may send data in the SYN
constexpr int kFastOpenServer = 2;  ///< bit: listeners with TCP_FASTOPEN accept data in the SYN

/// Explains a negative errno from MPTCP socket creation in words a user can act on.
std::string describe_mptcp_error(int negative_errno);

/**
 * True when @p fd is an MPTCP socket whose connection is really running MPTCP.
 * The kernel falls back to plain TCP silently (peer without MPTCP, middlebox
 * stripping options); MPTCP_INFO fails on such a socket (Linux 5.16+).
 */
bool mptcp_active(int fd);

/// What the kernel reports about one subflow of an MPTCP connection.
struct SubflowStats {
  sockaddr_storage local{};
  sockaddr_storage remote{};
  uint64_t bytes_sent = 0;       ///< tcpi_bytes_sent (includes retransmissions)
  uint64_t bytes_acked = 0;      ///< tcpi_bytes_acked
  uint64_t bytes_received = 0;   ///< tcpi_bytes_received
  uint64_t bytes_retrans = 0;    ///< tcpi_bytes_retrans
  uint32_t rtt_us = 0;           ///< smoothed RTT: the larger of the send-side and receive-side estimates
  bool live = true;              ///< false for a subflow that has closed since (kept for its counters)
};

/**
 * Reads every subflow of the MPTCP connection on @p fd (MPTCP_TCPINFO and
 * MPTCP_SUBFLOW_ADDRS). Returns the number of subflows, or a negative errno
 * (-EOPNOTSUPP / -ENOPROTOOPT for a socket that fell back to TCP).
 */
int read_subflows(int fd, std::vector<SubflowStats>& out);

/// MPTCP limits of the kernel's in-kernel path manager (per network namespace).
struct MptcpLimits {
  uint32_t subflows = 0;           ///< extra subflows per connection
  uint32_t add_addr_accepted = 0;  ///< ADD_ADDR announcements accepted per connection
};

/// Reads the path manager's limits over generic netlink ("mptcp_pm").
int get_mptcp_limits(MptcpLimits& out);

/// Sets the path manager's limits; needs CAP_NET_ADMIN (-EPERM otherwise).
int set_mptcp_limits(const MptcpLimits& limits);

/// Endpoint flags of the in-kernel path manager (MPTCP_PM_ADDR_FLAG_*).
enum EndpointFlag : uint32_t {
  kEndpointSignal = 1,
  kEndpointSubflow = 2,
  kEndpointBackup = 4,
  kEndpointFullmesh = 8,
  kEndpointImplicit = 16,
};

/// One endpoint ("ip mptcp endpoint"): a local address the path manager may
/// use for extra subflows, optionally tied to an interface.
struct MptcpEndpoint {
  uint8_t id = 0;            ///< 0 when adding: the kernel picks one
  sockaddr_storage address{};
  uint32_t flags = 0;        ///< EndpointFlag bits
  int ifindex = 0;           ///< the `dev` the subflows are bound to, 0 for none
};

/// Lists the endpoints of this network namespace (no privilege needed).
int list_mptcp_endpoints(std::vector<MptcpEndpoint>& out);
/// Adds an endpoint; needs CAP_NET_ADMIN (-EPERM otherwise).
int add_mptcp_endpoint(const MptcpEndpoint& e);
/// Deletes endpoint @p id; the kernel closes the subflows that used it.
int delete_mptcp_endpoint(uint8_t id);
/// Changes an endpoint's backup flag; live subflows are told with MP_PRIO.
int set_mptcp_endpoint_backup(const MptcpEndpoint& e, bool backup);

/// What kind of link an interface is, as far as the OS can tell.
enum class LinkKind { wifi, cellular, ethernet, other };

/// One network interface with what path management needs to know.
struct Interface {
  int index = 0;
  std::string name;
  LinkKind kind = LinkKind::other;
  bool up = false;           ///< administratively up and carrier present
  bool loopback = false;
  bool has_default_route = false;  ///< a default route leaves through it (any table)
  std::vector<sockaddr_storage> addresses;  ///< global-scope addresses only
};

/**
 * Classifies interface @p name from the sysfs directory of net devices
 * (normally "/sys/class/net"): DEVTYPE=wlan or a phy80211/wireless entry is
 * Wi-Fi, DEVTYPE=wwan is cellular, ARPHRD_ETHER (type 1) is Ethernet, the
 * rest is other. Taking the directory lets tests use fixtures.
 */
LinkKind classify_link(const std::string& sysfs_net_dir, const std::string& name);

/// Enumerates interfaces, their global addresses and default routes (rtnetlink dumps).
int list_interfaces(std::vector<Interface>& out);

/**
 * A non-blocking rtnetlink socket subscribed to link, address and route
 * changes. Poll fd() for readability, then call drain(); when it returns true
 * something path-relevant changed and list_interfaces() tells what.
 */
class LinkMonitor {
 public:
  LinkMonitor() = default;
  ~LinkMonitor();
  LinkMonitor(const LinkMonitor&) = delete;
  LinkMonitor& operator=(const LinkMonitor&) = delete;
  int open();
  int fd() const { return fd_; }
  bool drain();

 private:
  int fd_ = -1;
};

}  // namespace braid::platform
