#!/usr/bin/env bash
# Install what building, testing and the demo need, on Debian 12. Quiet and
# quick when everything is already there.
#
#   scripts/install-deps.sh          build, test, demo
#   scripts/install-deps.sh bench    the same, plus what `make bench`
#                                    compares against (etcd-server)
set -eu
pkgs=(gcc make clang clang-format libevent-dev libjansson-dev
      libclang-rt-14-dev python3 curl nftables iproute2 procps)
# The benchmark's comparison: etcd, 3 members on loopback ports of the
# bench's own. Debian starts an etcd service on install where systemd
# runs; the bench does not need it, so one installed here is stopped.
bench_pkgs=(etcd-server)
[ "${1:-}" = bench ] && pkgs+=("${bench_pkgs[@]}")
need=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
        need+=("$p")
done
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing: ${need[*]}"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
if [[ " ${need[*]} " == *" etcd-server "* ]] &&
    command -v systemctl >/dev/null && systemctl is-active -q etcd 2>/dev/null
then
    $SUDO systemctl disable --now etcd >/dev/null 2>&1 || true
fi
