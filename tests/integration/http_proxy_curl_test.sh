#!/usr/bin/env bash
# HTTP proxy front end of Braid (127.0.0.1:8118), tunnel mode, real curl in cli:
#  - plain proxy GET (absolute-form request line) to an IPv4 URL and to a name
#    only the concentrator can resolve: sha256 must match, the HTTP server must
#    see the request coming from the concentrator;
#  - CONNECT tunnel (curl -p / --proxytunnel): sha256 must match;
#  - refused upstream: plain GET answers HTTP 502, CONNECT answers 502 too;
#  - two downloads in one curl run (keep-alive): both intact, and either the
#    proxy connection is reused or braid announced "Connection: close".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/braid_lib.sh"

braid_require_bins
testbed_up
braid_start_concentrator
braid_start_client

P="http://$BRAID_HTTP"

# --- absolute-form GET ---------------------------------------------------------
tag=$(new_tag)
expect_download http-get-ip-small small.bin --proxy "$P" "$(tb_url "small.bin?tag=$tag")"
expect_via_concentrator "$tag"

tag=$(new_tag)
expect_download http-get-remote-dns-big big.bin --proxy "$P" "http://$TB_REMOTE_ONLY_HOST/big.bin?tag=$tag"
expect_via_concentrator "$tag"

# --- CONNECT tunnel ------------------------------------------------------------
tag=$(new_tag)
expect_download http-connect-small small.bin -p --proxy "$P" "http://$TB_FILES_HOST/small.bin?tag=$tag"
read -r _ conn_code _ <<<"$CURL_W"
[[ "$conn_code" == 200 ]] || tb_fail "[http-connect-small] CONNECT answered $conn_code, want 200"
expect_via_concentrator "$tag"

tag=$(new_tag)
expect_download http-connect-big big.bin -p --proxy "$P" "http://$TB_REMOTE_ONLY_HOST/big.bin?tag=$tag"
expect_via_concentrator "$tag"

# --- refused upstream: 502 -------------------------------------------------------
CURL_MAX_TIME=30 cli_curl http-get-refused --proxy "$P" "http://$TB_NET_IP:81/"
read -r code _ <<<"$CURL_W"
[[ "$code" == 502 ]] || tb_fail "[http-get-refused] want HTTP 502 from the proxy, got '$code' (curl exit $CURL_RC: $CURL_ERR)"
tb_log "[http-get-refused] OK: 502"

CURL_MAX_TIME=30 cli_curl http-connect-refused -p --proxy "$P" "http://$TB_NET_IP:81/"
read -r _ conn_code _ <<<"$CURL_W"
((CURL_RC != 0)) || tb_fail "[http-connect-refused] curl succeeded through a refused CONNECT"
[[ "$conn_code" == 502 ]] || tb_fail "[http-connect-refused] want CONNECT answered 502, got '$conn_code' (curl exit $CURL_RC: $CURL_ERR)"
tb_log "[http-connect-refused] OK: CONNECT 502"

# The proxy still works afterwards.
tag=$(new_tag)
expect_download http-after-errors small.bin --proxy "$P" "$(tb_url "small.bin?tag=$tag")"
expect_via_concentrator "$tag"

# --- two requests on one proxy connection (keep-alive) -------------------------
# The server in net speaks HTTP/1.1 with keep-alive. Both bodies must arrive
# intact. If braid does not keep the client connection open, RFC 9112 §9.6
# requires it to say so ("Connection: close") in every response; otherwise a
# client may send its next request into a connection that is being closed.
t1=$(new_tag) t2=$(new_tag)
rm -f "$TB_TMP/ka1.body" "$TB_TMP/ka2.body"
ka_out=$(in_cli curl -sS --max-time 120 --proxy "$P" \
    -o "$TB_TMP/ka1.body" "$(tb_url "small.bin?tag=$t1")" \
    -o "$TB_TMP/ka2.body" "http://$TB_FILES_HOST/small.bin?tag=$t2" \
    -w '%{http_code} %{num_connects}\n' 2>"$TB_TMP/ka.curl-stderr")
ka_rc=$?
ka_out=${ka_out//$'\n'/ }
tb_log "curl [keepalive] -> rc=$ka_rc out='$ka_out' $(cat "$TB_TMP/ka.curl-stderr")"
((ka_rc == 0)) || tb_fail "[keepalive] two downloads in one curl run through the proxy failed (curl exit $ka_rc): $(cat "$TB_TMP/ka.curl-stderr")"
for f in ka1 ka2; do
    got=$(sha256sum "$TB_TMP/$f.body" | cut -d' ' -f1)
    [[ "$got" == "$(tb_file_sha small.bin)" ]] ||
        tb_fail "[keepalive] $f: sha256 mismatch ($(stat -c %s "$TB_TMP/$f.body") bytes)"
done
expect_via_concentrator "$t1"
expect_via_concentrator "$t2"
read -r _ _ _ second_connects <<<"$ka_out"
if [[ "$second_connects" == 0 ]]; then
    tb_log "[keepalive] OK: both bodies intact, second request reused the proxy connection"
else
    cli_curl http-close-header --proxy "$P" -D "$TB_TMP/close-headers.txt" "$(tb_url small.bin)"
    if ! grep -qiE '^(proxy-)?connection:.*close' "$TB_TMP/close-headers.txt"; then
        tb_fail "[keepalive] braid closed the client's proxy connection after a response that did not carry 'Connection: close' (RFC 9112 §9.6); curl: $ka_out (\"http_code num_connects\" per transfer); response headers: $(tr -d '\r' <"$TB_TMP/close-headers.txt" | paste -sd'|')"
    fi
    tb_log "[keepalive] OK: both bodies intact; braid does not reuse client connections but says 'Connection: close'"
fi

tb_pass "HTTP proxy: absolute-form GET, keep-alive, CONNECT, 502 on refused upstream"
