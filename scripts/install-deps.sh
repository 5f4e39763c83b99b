#!/bin/sh
# Installs the Debian 12 packages Sluice needs, and nothing else: it never starts, stops,
# disables or reconfigures a service of this machine (a running nginx, HAProxy or etcd is the
# user's; tests and benchmarks start their own on free ports).
#   scripts/install-deps.sh build   what building needs (make build, make configure)
#   scripts/install-deps.sh demo    build + HAProxy, the L4 side of make demo
#   scripts/install-deps.sh all     build + the peers and tools tests and benchmarks use (default)
# Idempotent: only missing packages are installed. Must run as root (or via sudo).
set -eu

BUILD="cmake ninja-build g++ make pkg-config clang libclang-rt-14-dev
libnghttp2-dev libasio-dev libc-ares-dev libssl-dev libyaml-cpp-dev nlohmann-json3-dev
libcli11-dev libspdlog-dev libfmt-dev
libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
libgtest-dev libgmock-dev libbenchmark-dev"
DEMO="haproxy"
# Peers and tools for tests and benchmarks.
TOOLS="nghttp2-client nghttp2-proxy haproxy nginx-light python3-grpcio procps util-linux curl
dnsmasq-base etcd-server etcd-client"
# nghttp2 1.52.0-1+deb12u2 backports the rapid-reset and CONTINUATION limits the proxy sets.
MIN_NGHTTP2="1.52.0-1+deb12u2"

case "${1:-all}" in
  build) wanted="$BUILD" ;;
  demo) wanted="$BUILD $DEMO" ;;
  all) wanted="$BUILD $TOOLS" ;;
  *) echo "usage: $0 [build|demo|all]" >&2; exit 2 ;;
esac

missing=""
for p in $wanted; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if [ -n "$missing" ]; then
  echo "install-deps: installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq --no-install-recommends $missing
else
  echo "install-deps: all packages present"
fi

have=$(dpkg-query -W -f='${Version}' libnghttp2-dev)
if ! dpkg --compare-versions "$have" ge "$MIN_NGHTTP2"; then
  echo "install-deps: libnghttp2-dev $have is older than $MIN_NGHTTP2 (rapid-reset and" \
       "CONTINUATION limits); upgrade it: apt-get install --only-upgrade libnghttp2-dev" >&2
  exit 1
fi
