// The concentrator's TLS identity: a new ECDSA P-256 key and a self-signed
// certificate for `braid-concentrator init`, and the fingerprint clients pin.
#pragma once

#include <string>

#include "net/tls.hpp"

namespace braid::net {

struct TlsIdentity {
  std::string key_pem;   ///< PKCS#8 private key, PEM
  std::string cert_pem;  ///< X.509 v3, self-signed, PEM
  Fingerprint fingerprint{};
};

/**
 * Makes a P-256 key and a certificate for @p host (CN and subjectAltName, an
 * IP address or a DNS name), valid from an hour ago for @p days days.
 * False and @p error when OpenSSL refuses.
 */
bool make_self_signed_identity(const std::string& host, int days, TlsIdentity& out, std::string& error);

/// The SPKI fingerprint of the first certificate in @p cert_pem.
bool fingerprint_of_pem(const std::string& cert_pem, Fingerprint& out, std::string& error);

}  // namespace braid::net
