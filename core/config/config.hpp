// Braid's configuration: the JSON schema of the client and the concentrator,
// their defaults, and validation whose errors name the field and what it
// accepts. JSON exceptions stop here (STYLE.md rule 5).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "net/address.hpp"
#include "net/cidr.hpp"

namespace braid::config {

/// Explicit resource limits, shared by both programs.
struct Limits {
  uint32_t max_connections = 4096;        ///< sessions at once; more are refused
  uint32_t handshake_timeout_ms = 10000;  ///< from accept to a relaying session
  uint32_t connect_timeout_ms = 10000;    ///< one upstream connect attempt
  uint32_t idle_timeout_ms = 300000;      ///< no bytes either way
  uint32_t buffer_bytes = 256 * 1024;     ///< per direction, before reading pauses
  uint32_t udp_deadline_ms = 200;         ///< a framed datagram queued longer is dropped
  // Concentrator only (the client's config does not accept them):
  uint32_t max_connections_per_user = 1024;  ///< one user's sessions at once; more are refused
  uint32_t max_dns_lookups = 128;            ///< name lookups in flight; more are refused
  /// How long an established connection may wait for its request header
  /// (a client's pre-warmed connection); longer than the clients' pool.max_idle_ms.
  uint32_t pool_idle_ms = 120000;
  bool zero_copy = true;                  ///< relay plain streams with splice(2)
};

/// Which destinations the concentrator connects to (docs/PROTOCOL.md,
/// "Destination policy"): deny wins, then allow, then the built-in refusals
/// of loopback, private, link-local, multicast and its own addresses.
struct Destinations {
  std::vector<net::AddressRule> allow;
  std::vector<net::AddressRule> deny;
};

struct Credentials {
  std::string username;
  std::string password;
};

/// Where the concentrator is and how to prove who we are and who it is
/// (usually imported from an access key: `braid add-concentrator KEY`).
struct Concentrator {
  Destination address;  ///< host:port, a name is resolved at connect time
  std::string user;
  std::string token;
  /// "sha256:HEX" of the concentrator's public key (SPKI): pinned, no CA
  /// needed. Empty: verify the certificate with CAs and the server name.
  std::string fingerprint;
  std::string ca_file;      ///< without a fingerprint: CA bundle (PEM); "" = the system's CAs
  std::string server_name;  ///< without a fingerprint: the name to verify; "" = the address's host
  bool insecure_plaintext = false;  ///< no TLS: user, token and traffic in clear (tests only)
};

/// The control API of the client daemon.
struct Control {
  Destination listen;      ///< loopback by default
  std::string token_file;  ///< bearer token, created 0600 when missing
};

/// Per-interface settings, by interface name.
struct PathSettings {
  std::string kind;    ///< "" (detect), wifi, cellular, ethernet, other
  std::string policy;  ///< "" (remembered or default), on, backup, off
};

/// How datagrams to some destinations travel (see docs/PROTOCOL.md).
struct UdpRule {
  std::vector<std::pair<uint16_t, uint16_t>> ports;  ///< inclusive ranges; empty = any port
  std::vector<std::string> hosts;  ///< exact names/addresses or "*.suffix"; empty = any host
  std::string carrier;             ///< "framed" or "datagram"
  std::string scheduler;           ///< for datagram: redundant, lowest-rtt, weighted
};

struct Udp {
  std::string carrier = "framed";      ///< for destinations no rule matches
  std::string scheduler = "lowest-rtt";
  std::vector<UdpRule> rules;          ///< first match wins
  uint32_t probe_interval_ms = 500;
};

/// The carrier and scheduler for datagrams to @p host : @p port (first matching rule, else the default).
struct UdpChoice {
  bool datagram = false;
  std::string scheduler;
};
UdpChoice choose_udp(const Udp& u, const std::string& host, uint16_t port);
/// True when some datagrams may use the datagram carrier.
bool uses_datagram_carrier(const Udp& u);

/// The default rules: DNS framed; QUIC, STUN and RTP datagram/lowest-rtt.
Udp default_udp();
/// "realtime" preset: the default becomes datagram/redundant.
void apply_realtime_preset(Udp& u);

/// Pre-warmed connections to the concentrator (docs/PROTOCOL.md, "Pre-warmed
/// connections"). The number kept follows the connects of the last 10 s,
/// between min and max; max 0 turns the pool off.
struct Pool {
  uint32_t min = 2;
  uint32_t max = 16;
  /// An idle connection older than this is replaced; keep it below the
  /// concentrator's limits.pool_idle_ms (120 s by default).
  uint32_t max_idle_ms = 60000;
  bool enabled() const { return max > 0; }
};

/// The client daemon (`braid up`).
struct ClientConfig {
  std::optional<Destination> socks_listen;  ///< SOCKS5 only
  std::optional<Destination> http_listen;   ///< HTTP proxy only
  std::optional<Destination> mixed_listen;  ///< SOCKS5 and HTTP, told apart by the first byte
  std::optional<Credentials> auth;          ///< required from local apps when set
  std::optional<Concentrator> concentrator; ///< none: connect to destinations directly
  bool mptcp = true;
  Limits limits;
  std::string log_level = "info";
  std::optional<Control> control;              ///< none: no control API
  std::map<std::string, PathSettings> paths;   ///< overrides by interface name
  std::string mode = "aggregate";              ///< aggregate or failover (a preset over the policies)
  bool manage_endpoints = true;                ///< steer the kernel's MPTCP endpoints when allowed
  std::string state_file;                      ///< remembered policies and totals
  Udp udp = default_udp();
  Pool pool;
  /// Answer SOCKS5 / HTTP CONNECT success as soon as the request header is
  /// sent (at once on a pre-warmed connection), before the concentrator
  /// confirms; a refusal then closes the application's connection instead
  /// of answering it.
  bool optimistic_reply = false;
  /// TCP Fast Open towards the concentrator (the ClientHello rides in the
  /// SYN). Off: over MPTCP the concentrator cannot answer before the third
  /// ACK (MPTCP v1 sends the client's key there) and Linux 6.18 holds that
  /// answer until the client's next segment: a cold connect stalls
  /// (docs/PROTOCOL.md, "TCP Fast Open").
  bool tcp_fastopen = false;
};

/// The server (`braid-concentrator`).
struct ConcentratorConfig {
  Destination listen;
  std::string users_file;           ///< users and their token hashes (concentrator/users.hpp)
  std::string public_address;       ///< HOST:PORT clients reach, for the access keys `user add` prints
  std::string tls_cert, tls_key;    ///< PEM files of the TLS certificate (chain) and its key
  bool insecure_plaintext = false;  ///< no TLS at all (tests only; logged loudly)
  bool mptcp = true;
  uint32_t mptcp_subflows = 8;      ///< path-manager subflow limit to ensure, 0 leaves it alone
  Destinations destinations;        ///< allow/deny lists over the built-in refusals
  /// Accept TCP Fast Open (a ClientHello in the SYN); sets the namespace's
  /// net.ipv4.tcp_fastopen server bit when it may. Off by default, as the
  /// client's (see there).
  bool tcp_fastopen = false;
  Limits limits;
  std::string log_level = "info";
};

ClientConfig default_client_config();
ConcentratorConfig default_concentrator_config();

/// Parses and validates client JSON; on failure returns nullopt and sets @p error
/// to a message naming the field ("concentrator.token: ...").
std::optional<ClientConfig> parse_client_config(const std::string& json_text, std::string& error);
std::optional<ConcentratorConfig> parse_concentrator_config(const std::string& json_text, std::string& error);

/// $XDG_CONFIG_HOME/braid/<file>, or ~/.config/braid/<file>.
std::string default_config_path(const std::string& file);

/// $XDG_STATE_HOME/braid/<file>, or ~/.local/state/braid/<file>.
std::string default_state_path(const std::string& file);

/// The client config as JSON text (what `GET /v1/config` returns).
std::string to_json(const ClientConfig& c);

/// Writes @p content to @p path through a temporary file and rename(), so a
/// reader sees the old or the new file, never half of one. Creates the
/// directory; @p mode applies to the new file.
bool write_file_atomic(const std::string& path, const std::string& content, unsigned mode, std::string& error);

/// Reads a whole file; false and @p error when it cannot.
bool read_file(const std::string& path, std::string& out, std::string& error);

/// Checks the combination of settings (at least one listener, token length…).
bool validate(const ClientConfig& c, std::string& error);
bool validate(const ConcentratorConfig& c, std::string& error);

}  // namespace braid::config
