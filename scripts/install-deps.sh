#!/bin/sh
# Installs every Debian 12 package Sluice needs to build, test and benchmark.
# Idempotent: only missing packages are installed. Must run as root (or via sudo).
set -eu

BUILD="cmake ninja-build g++ make pkg-config clang libclang-rt-14-dev
libnghttp2-dev libasio-dev libc-ares-dev libssl-dev libyaml-cpp-dev nlohmann-json3-dev
libcli11-dev libspdlog-dev libfmt-dev
libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
libgtest-dev libgmock-dev libbenchmark-dev"
# Peers and tools for tests and benchmarks.
TOOLS="nghttp2-client nghttp2-proxy haproxy nginx-light python3-grpcio procps util-linux curl
dnsmasq-base etcd-server etcd-client"

missing=""
for p in $BUILD $TOOLS; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && { echo "install-deps: all packages present"; exit 0; }

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
# The peer servers must not keep running as system services on this machine (etcd-server
# enables one on 127.0.0.1:2379; the etcd tests start their own on free ports).
for svc in nginx haproxy etcd; do
  if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true; fi
  if command -v service >/dev/null 2>&1; then $SUDO service "$svc" stop >/dev/null 2>&1 || true; fi
done
