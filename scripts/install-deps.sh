#!/usr/bin/env bash
# Installs every Debian package Emporium needs to build, test and benchmark.
# Idempotent: packages already present are skipped. Runs as root or via sudo.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git ca-certificates curl openssl
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlite3-dev sqlite3 libssl-dev libspdlog-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcurl4-openssl-dev
  libpq-dev postgresql-15 redis-server libhiredis-dev librabbitmq-dev libargon2-dev libjwt-dev
  libtomlplusplus-dev clang-format clang-tidy gcovr nodejs chromium
  clang-14 libclang-rt-14-dev
  nginx-light wrk prometheus prometheus-alertmanager rabbitmq-server amqp-tools
  podman buildah runc catatonit containernetworking-plugins iptables uidmap
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Podman's defaults do not fit a machine whose hard nofile limit is low (its
# default ulimit would exceed it) and pick crun, which is not installed: set
# the ulimits and runc in /etc/containers/containers.conf, adding only the
# keys that are missing, under their own table.
containers_conf=/etc/containers/containers.conf
conf_set() {
  local table=$1 key=$2 line=$3
  if "${sudo_cmd[@]}" grep -Eq "^[[:space:]]*${key}[[:space:]]*=" "$containers_conf" 2>/dev/null; then
    return 0
  fi
  echo "install-deps: $containers_conf: [$table] $line"
  if "${sudo_cmd[@]}" grep -Fxq "[$table]" "$containers_conf" 2>/dev/null; then
    "${sudo_cmd[@]}" sed -i "/^\\[$table\\]\$/a $line" "$containers_conf"
  else
    printf '[%s]\n%s\n' "$table" "$line" | "${sudo_cmd[@]}" tee -a "$containers_conf" >/dev/null
  fi
}
"${sudo_cmd[@]}" mkdir -p "$(dirname "$containers_conf")"
conf_set containers default_ulimits 'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]'
conf_set engine runtime 'runtime = "runc"'
