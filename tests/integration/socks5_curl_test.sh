#!/usr/bin/env bash
# SOCKS5 through Braid, driven by real curl in the cli namespace.
#
#  1. tunnel mode (braid up --concentrator 10.31.1.1:7300):
#     - curl --socks5 (IPv4 destination) small and big file: sha256 must match,
#       and the HTTP server must see the request coming from the concentrator;
#     - curl --socks5 with a name resolved locally in cli (files.braid.test);
#     - curl --socks5-hostname with a name only the concentrator can resolve
#       (remote-only.braid.test): DNS happens at the concentrator;
#     - refused port (10.31.9.2:81): curl must fail with SOCKS5 REP 5
#       (connection refused);
#     - unresolvable name via --socks5-hostname: REP 4 (host unreachable).
#  2. direct mode (braid up without --concentrator, concentrator stopped):
#     downloads from 10.31.9.2 arrive intact and straight from cli's address.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/braid_lib.sh"

braid_require_bins
testbed_up
braid_start_concentrator
braid_start_client


# --- 1. tunnel mode ----------------------------------------------------------
tag=$(new_tag)
expect_download socks5-ip-small small.bin --socks5 "$BRAID_SOCKS" "$(tb_url "small.bin?tag=$tag")"
expect_via_concentrator "$tag"

tag=$(new_tag)
expect_download socks5-ip-big big.bin --socks5 "$BRAID_SOCKS" "$(tb_url "big.bin?tag=$tag")"
expect_via_concentrator "$tag"

tag=$(new_tag)
expect_download socks5-localdns small.bin --socks5 "$BRAID_SOCKS" "http://$TB_FILES_HOST/small.bin?tag=$tag"
expect_via_concentrator "$tag"

# cli cannot resolve remote-only.braid.test itself: prove it.
if in_cli getent hosts "$TB_REMOTE_ONLY_HOST" >/dev/null; then
    tb_fail "testbed: $TB_REMOTE_ONLY_HOST unexpectedly resolves in cli"
fi
tag=$(new_tag)
expect_download socks5h-remote-dns big.bin --socks5-hostname "$BRAID_SOCKS" "http://$TB_REMOTE_ONLY_HOST/big.bin?tag=$tag"
expect_via_concentrator "$tag"

tag=$(new_tag)
expect_download socks5h-url-scheme small.bin --proxy "socks5h://$BRAID_SOCKS" "http://$TB_FILES_HOST/small.bin?tag=$tag"
expect_via_concentrator "$tag"

# Refused destination port: REP 5. curl 7.88 prints
# "curl: (97) Can't complete SOCKS5 connection to 10.31.9.2. (5)";
# exit code 97 = CURLE_PROXY.
CURL_MAX_TIME=30 cli_curl socks5-refused --socks5 "$BRAID_SOCKS" "http://$TB_NET_IP:81/"
((CURL_RC != 0)) || tb_fail "[socks5-refused] curl succeeded against a closed port"
rep=$(socks_rep_of_last_curl)
[[ "$rep" == 5 ]] ||
    tb_fail "[socks5-refused] want SOCKS5 REP 5 (connection refused), got REP $rep, curl exit $CURL_RC: $CURL_ERR"
tb_log "[socks5-refused] OK: REP 5 connection refused"

# Unresolvable name at the concentrator: REP 4 (host unreachable).
CURL_MAX_TIME=30 cli_curl socks5h-nxdomain --socks5-hostname "$BRAID_SOCKS" "http://no-such-host.invalid/"
((CURL_RC != 0)) || tb_fail "[socks5h-nxdomain] curl succeeded for an unresolvable name"
rep=$(socks_rep_of_last_curl)
[[ "$rep" == 4 ]] ||
    tb_fail "[socks5h-nxdomain] want SOCKS5 REP 4 (host unreachable), got REP $rep, curl exit $CURL_RC: $CURL_ERR"
tb_log "[socks5h-nxdomain] OK: REP 4 host unreachable"

# The proxy still works after the errors.
tag=$(new_tag)
expect_download socks5-after-errors small.bin --socks5 "$BRAID_SOCKS" "$(tb_url "small.bin?tag=$tag")"
expect_via_concentrator "$tag"
braid_check_alive

# --- 2. direct mode -----------------------------------------------------------
braid_stop_client
braid_stop_concentrator
braid_start_client --direct

tag=$(new_tag)
expect_download direct-socks5-small small.bin --socks5 "$BRAID_SOCKS" "$(tb_url "small.bin?tag=$tag")"
expect_direct "$tag"

tag=$(new_tag)
expect_download direct-socks5h-big big.bin --socks5-hostname "$BRAID_SOCKS" "http://$TB_FILES_HOST/big.bin?tag=$tag"
expect_direct "$tag"

tag=$(new_tag)
expect_download direct-http-proxy small.bin --proxy "http://$BRAID_HTTP" "$(tb_url "small.bin?tag=$tag")"
expect_direct "$tag"

CURL_MAX_TIME=30 cli_curl direct-refused --socks5 "$BRAID_SOCKS" "http://$TB_NET_IP:81/"
rep=$(socks_rep_of_last_curl)
[[ "$rep" == 5 ]] ||
    tb_fail "[direct-refused] want SOCKS5 REP 5 (connection refused), got REP $rep, curl exit $CURL_RC: $CURL_ERR"

tb_pass "SOCKS5 via concentrator (socks5, socks5h, REP 5, REP 4) and direct mode"
