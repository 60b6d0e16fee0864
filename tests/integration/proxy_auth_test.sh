#!/usr/bin/env bash
# Local proxy authentication: `braid up --user U --password P` (tunnel mode).
#  SOCKS5 (RFC 1929): no credentials -> rejected (no acceptable method),
#    wrong password -> rejected, right credentials -> download intact.
#  HTTP: no / wrong Proxy-Authorization -> 407 with a Proxy-Authenticate
#    header (RFC 9110 §15.5.8), for plain GET and for CONNECT; right
#    credentials -> download intact.
# A rejected request must never reach the HTTP server in net.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/braid_lib.sh"

braid_require_bins
testbed_up
braid_start_concentrator

U=alice
PW="pa55-w0rd.$RANDOM"
braid_start_client --user "$U" --password "$PW"

expect_not_reached() {  # TAG LABEL
    local c
    c=$(http_client_of "$1")
    [[ "$c" == none ]] || tb_fail "[$2] a rejected request reached the HTTP server (from $c)"
}

# ---- SOCKS5 ----------------------------------------------------------------------
tag=$(new_tag)
CURL_MAX_TIME=30 cli_curl socks5-noauth --proxy "socks5://$BRAID_SOCKS" "$(tb_url "small.bin?tag=$tag")"
((CURL_RC != 0)) || tb_fail "[socks5-noauth] download without credentials succeeded"
[[ "$CURL_ERR" == *"No authentication method was acceptable"* ]] ||
    tb_fail "[socks5-noauth] want the server to refuse every offered method (0xFF), curl says: $CURL_ERR"
expect_not_reached "$tag" socks5-noauth

tag=$(new_tag)
CURL_MAX_TIME=30 cli_curl socks5-badpw --proxy "socks5://$U:wrong@$BRAID_SOCKS" "$(tb_url "small.bin?tag=$tag")"
((CURL_RC != 0)) || tb_fail "[socks5-badpw] download with a wrong password succeeded"
[[ "$CURL_ERR" == *"User was rejected by the SOCKS5 server"* ]] ||
    tb_fail "[socks5-badpw] want an RFC 1929 rejection, curl says: $CURL_ERR"
expect_not_reached "$tag" socks5-badpw

tag=$(new_tag)
expect_download socks5-auth small.bin --proxy "socks5://$U:$PW@$BRAID_SOCKS" "$(tb_url "small.bin?tag=$tag")"
expect_via_concentrator "$tag"
tag=$(new_tag)
expect_download socks5h-auth small.bin --proxy "socks5h://$U:$PW@$BRAID_SOCKS" "http://$TB_REMOTE_ONLY_HOST/small.bin?tag=$tag"
expect_via_concentrator "$tag"

# ---- HTTP --------------------------------------------------------------------------
P="http://$BRAID_HTTP"
check_407() {  # LABEL TAG CURL-ARGS...
    local label="$1" tag="$2" code conn
    shift 2
    CURL_MAX_TIME=30 cli_curl "$label" -D "$TB_TMP/$label.headers" "$@"
    read -r code conn _ <<<"$CURL_W"
    [[ "$code" == 407 || "$conn" == 407 ]] ||
        tb_fail "[$label] want 407 Proxy Authentication Required, got http_code=$code connect=$conn (curl exit $CURL_RC: $CURL_ERR)"
    grep -qi '^Proxy-Authenticate: *Basic' "$TB_TMP/$label.headers" ||
        tb_fail "[$label] 407 without 'Proxy-Authenticate: Basic ...' header: $(tr -d '\r' <"$TB_TMP/$label.headers" | paste -sd'|')"
    expect_not_reached "$tag" "$label"
    tb_log "[$label] OK: 407 with Proxy-Authenticate"
}
tag=$(new_tag); check_407 http-noauth "$tag" --proxy "$P" "$(tb_url "small.bin?tag=$tag")"
tag=$(new_tag); check_407 http-badpw "$tag" --proxy "$P" --proxy-user "$U:wrong" "$(tb_url "small.bin?tag=$tag")"
tag=$(new_tag); check_407 connect-noauth "$tag" -p --proxy "$P" "$(tb_url "small.bin?tag=$tag")"

tag=$(new_tag)
expect_download http-auth small.bin --proxy "$P" --proxy-user "$U:$PW" "$(tb_url "small.bin?tag=$tag")"
expect_via_concentrator "$tag"
tag=$(new_tag)
expect_download connect-auth small.bin -p --proxy "$P" --proxy-user "$U:$PW" "http://$TB_FILES_HOST/small.bin?tag=$tag"
expect_via_concentrator "$tag"

tb_pass "proxy authentication: SOCKS5 RFC 1929 and HTTP Basic accept the right credentials and reject others"
