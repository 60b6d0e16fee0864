// Which protocols a local listener speaks.
#pragma once

namespace braid::client {

enum class Frontend { socks5, http, mixed };

const char* frontend_name(Frontend f);

}  // namespace braid::client
