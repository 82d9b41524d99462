#!/usr/bin/env bash
# Install what building, testing and the demo need, on Debian 12. Quiet and
# quick when everything is already there.
set -eu
need=()
for p in gcc make clang clang-format libevent-dev libjansson-dev \
         libclang-rt-14-dev python3 curl nftables iproute2 procps; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
        need+=("$p")
done
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing: ${need[*]}"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
