#!/usr/bin/env bash
# Installs what Braid needs from Debian's archive (only what is missing) and
# builds it into build/. Used by the README's two commands.
#   scripts/setup.sh            build deps + test peers
#   BUILD_DIR=... CMAKE_ARGS=... scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # build
  cmake ninja-build g++ pkg-config libuv1-dev nlohmann-json3-dev doctest-dev libcli11-dev
  libhttp-parser-dev libssl-dev
  # tests and the testbed: real clients and kernel tools
  curl python3 python3-socks dnsmasq-base iproute2 nftables mptcpd iperf3 procps tcpdump
  # the fuzz targets (scripts/fuzz.sh): clang and its libFuzzer runtime
  clang libclang-rt-14-dev
  # benchmark peers
  microsocks dante-server proxychains4 shadowsocks-libev
  # the tray app (gui/), its tests (offscreen) and screenshots (Xvfb, a tray host)
  qt6-base-dev qt6-charts-dev qt6-svg-dev libqt6opengl6-dev qt6-qpa-plugins
  xvfb x11-apps x11-xserver-utils xauth imagemagick trayer fonts-dejavu-core
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing packages: ${missing[*]}; run as root or install them with apt-get" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # dante-server's package starts a daemon with a default config that fails; we
  # run our own instances in the benchmarks only.
  systemctl disable --now danted >/dev/null 2>&1 || true
  # shadowsocks-libev's package enables an ss-server service; the benchmarks
  # start their own.
  systemctl disable --now shadowsocks-libev >/dev/null 2>&1 || true
fi

build_dir=${BUILD_DIR:-build}
# shellcheck disable=SC2086
cmake -S . -B "$build_dir" -G Ninja ${CMAKE_ARGS:-} >/dev/null
ninja -C "$build_dir"
