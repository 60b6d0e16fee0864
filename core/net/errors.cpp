#include "net/errors.hpp"

#include <uv.h>

namespace braid::net {

uint8_t reply_for_error(int e) {
  switch (e) {
    case UV_ECONNREFUSED:
      return 0x05;
    case UV_ENETUNREACH:
    case UV_ENETDOWN:
      return 0x03;
    case UV_EHOSTUNREACH:
    case UV_EHOSTDOWN:
    case UV_EAI_NONAME:
    case UV_EAI_AGAIN:
    case UV_EAI_FAIL:
    case UV_EAI_NODATA:
    case UV_EAI_ADDRFAMILY:
      return 0x04;
    case UV_ETIMEDOUT:
      return 0x06;
    case UV_EACCES:
    case UV_EPERM:
      return 0x02;
    case UV_EAFNOSUPPORT:
    case UV_EAI_FAMILY:
      return 0x08;
    default:
      return 0x01;
  }
}

std::string describe_error(int e) {
  if (e == 0) return "ok";
  return std::string(uv_strerror(e)) + " (" + uv_err_name(e) + ")";
}

}  // namespace braid::net
