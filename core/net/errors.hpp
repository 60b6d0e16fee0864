// Maps libuv/errno failures onto the answers proxy clients understand.
#pragma once

#include <cstdint>
#include <string>

namespace braid::net {

/**
 * The SOCKS5 REP code (equal to Braid's wire status) for a negative libuv
 * error from resolving or connecting: refused 5, network unreachable 3, host
 * unreachable or unresolvable 4, timed out 6 ("TTL expired" is the closest
 * RFC 1928 code), permission 2, address family 8, anything else 1.
 */
uint8_t reply_for_error(int uv_error);

/// "connection refused (ECONNREFUSED)".
std::string describe_error(int uv_error);

}  // namespace braid::net
