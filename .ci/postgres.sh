#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests on 127.0.0.1:$IDREVIEW_PG_PORT (default 5432): trust
# authentication, superuser `postgres`, its files in /tmp/idreview-pg-<port>, run as the
# `postgres` user when we are root (initdb refuses root). `start` installs Debian's
# `postgresql` package when missing (stopping the cluster its installation may start, which
# would hold the port and ask for passwords); `stop` stops the cluster and removes its files.
set -euo pipefail
port=${IDREVIEW_PG_PORT:-5432}
dir=/tmp/idreview-pg-$port
root=false
[ "$(id -u)" = 0 ] && root=true
sudo=""
$root || sudo="sudo"
as_postgres() {
  if $root; then runuser -u postgres -- "$@"; else "$@"; fi
}
bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

case "${1:-start}" in
start)
  if ! dpkg-query -W -f='${Status}' postgresql 2>/dev/null | grep -q "install ok installed"; then
    echo "installing: postgresql"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
    # The package's own cluster, if its installation started one.
    pg_lsclusters -h 2>/dev/null | awk -v p="$port" '$3 == p && $4 == "online" {print $1, $2}' |
      while read -r version cluster; do $sudo pg_ctlcluster "$version" "$cluster" stop; done
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  $root && chown postgres: "$dir"
  as_postgres "$(bin)/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >/dev/null
  # fsync off: a cluster for tests, thrown away after them.
  as_postgres "$(bin)/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" start >/dev/null
  echo "PostgreSQL for the tests on 127.0.0.1:$port ($dir)"
  ;;
stop)
  if [ -d "$dir/data" ]; then
    as_postgres "$(bin)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    rm -rf "$dir"
  fi
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
