#!/usr/bin/env bash
# Failover test: two Poise instances on a two-node Patroni cluster (one etcd,
# PostgreSQL 15, synchronous_mode), all on loopback ports in a temporary
# directory. It drives card debits and order credits with Idempotency-Keys
# through both instances, kills the leader (Patroni and PostgreSQL, kill -9)
# several times and makes one planned switchover, then checks that every
# acknowledged operation exists exactly once, that retried keys applied at
# most once, that escrow equals what was acknowledged, that every instance's
# /readyz said 503 while no primary took writes and 200 at the end, and that
# `poise verify` is clean. It prints, per fault, the time until writes
# resumed.
#
# Usage: scripts/ha-failover.sh [kills] [switchovers]   (default 5 and 1)
#
# Needs root (for apt-get and to run PostgreSQL as the postgres user, since
# initdb refuses root) and Debian's patroni, etcd-server and PostgreSQL 15.
# It stops only the processes it started, and removes its directory.
set -euo pipefail

KILLS=${1:-5}
SWITCHOVERS=${2:-1}
REPO=$(cd "$(dirname "$0")/.." && pwd)
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
SCOPE=poise-ha

# --- node control, called back by the load driver -------------------------
# (internal: "$0" __kill|__start <work dir> <node name>)

node_start() { # work dir, node name
	local dir=$1 name=$2
	# setpriv execs, so the recorded pid is Patroni's own.
	setpriv --reuid=postgres --regid=postgres --init-groups \
		patroni "$dir/$name.yml" >>"$dir/$name.log" 2>&1 &
	echo $! >"$dir/$name.patroni.pid"
	disown
}

# pids_of prints the processes whose command line holds text: a path in
# this run's own directory, so only processes this run started match.
pids_of() {
	# The empty group keeps grep's own command line from matching.
	grep -laE -- "${1%/*}/()${1##*/}" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3 || true
}

node_kill() { # work dir, node name: Patroni, the postmaster and its children
	local dir=$1 name=$2 pids pm
	# Patroni by its configuration file (and the pid recorded at its start),
	# the postmaster by its data directory; backends by their parent.
	pids="$(cat "$dir/$name.patroni.pid" 2>/dev/null) $(pids_of "$dir/$name.yml")"
	for pm in $(pids_of "$dir/$name/data"); do
		pids="$pids $pm $(ps -o pid= --ppid "$pm" | tr '\n' ' ')"
	done
	echo "$(date -u +%T.%N) kill -9 $name: $pids" >>"$dir/faults.log"
	# shellcheck disable=SC2086
	kill -9 $pids 2>/dev/null || true
}

case "${1:-}" in
__kill)
	node_kill "$2" "$3"
	exit 0
	;;
__start)
	node_start "$2" "$3"
	exit 0
	;;
esac

if [ "$(id -u)" != 0 ]; then
	echo "ha-failover: run as root (apt-get, and PostgreSQL as the postgres user)" >&2
	exit 2
fi

# --- what it needs ---------------------------------------------------------
need=()
command -v patroni >/dev/null || need+=(patroni)
command -v etcd >/dev/null || need+=(etcd-server)
command -v curl >/dev/null || need+=(curl)
[ -x "$PG_BIN/initdb" ] || need+=(postgresql-15)
if [ ${#need[@]} -gt 0 ]; then
	echo "installing ${need[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}" >/dev/null
fi
id postgres >/dev/null 2>&1 || {
	echo "ha-failover: no postgres user" >&2
	exit 2
}

# --- the work directory and teardown ---------------------------------------
DIR=$(mktemp -d /tmp/poise-ha.XXXXXX)
chmod 755 "$DIR"
PIDS_FILE=$DIR/started.pids
: >"$PIDS_FILE"

teardown() {
	local rc=$?
	set +e
	# Poise first, so that it does not log the database going away; then
	# the Patroni nodes with their PostgreSQL; etcd last.
	for f in "$DIR"/poise*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
	for name in node0 node1; do
		[ -f "$DIR/$name.patroni.pid" ] && node_kill "$DIR" "$name"
	done
	[ -f "$DIR/etcd.pid" ] && kill -9 "$(cat "$DIR/etcd.pid")" 2>/dev/null
	sleep 0.5
	if [ $rc -ne 0 ] && [ -z "${KEEP_LOGS:-}" ]; then
		echo "--- last lines of the logs (KEEP_LOGS=1 keeps $DIR) ---" >&2
		for f in "$DIR"/*.log; do
			echo "== $f" >&2
			tail -15 "$f" >&2
		done
	fi
	if [ -z "${KEEP_LOGS:-}" ]; then rm -rf "$DIR"; else echo "logs kept in $DIR" >&2; fi
	exit $rc
}
trap teardown EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
ETCD_CLIENT=$(free_port)
ETCD_PEER=$(free_port)
PG0=$(free_port)
PG1=$(free_port)
REST0=$(free_port)
REST1=$(free_port)
API0=$(free_port)
API1=$(free_port)

# --- etcd ------------------------------------------------------------------
etcd --name e0 --data-dir "$DIR/etcd" \
	--listen-client-urls "http://127.0.0.1:$ETCD_CLIENT" --advertise-client-urls "http://127.0.0.1:$ETCD_CLIENT" \
	--listen-peer-urls "http://127.0.0.1:$ETCD_PEER" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER" \
	--initial-cluster "e0=http://127.0.0.1:$ETCD_PEER" >"$DIR/etcd.log" 2>&1 &
echo $! >"$DIR/etcd.pid"
disown
for _ in $(seq 50); do
	curl -sf "http://127.0.0.1:$ETCD_CLIENT/health" >/dev/null && break
	sleep 0.2
done

# --- two Patroni nodes -----------------------------------------------------
# ttl 10 s: a dead leader's key expires, and the standby takes over, about
# 10 s after the leader died. loop_wait + 2 * retry_timeout must not exceed
# ttl. synchronous_mode (not strict): a commit waits for the standby while
# there is one; with two nodes, strict mode would stop all writes while
# either is down.
write_node_config() { # name, pg port, rest port
	local name=$1 pg=$2 rest=$3
	mkdir -p "$DIR/$name"
	cat >"$DIR/$name.yml" <<EOF
scope: $SCOPE
name: $name
log:
  level: WARNING
restapi:
  listen: 127.0.0.1:$rest
  connect_address: 127.0.0.1:$rest
etcd3:
  hosts: 127.0.0.1:$ETCD_CLIENT
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 2
    retry_timeout: 4
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        wal_log_hints: "on"
        max_connections: 100
        shared_buffers: 32MB
        max_wal_senders: 5
        max_replication_slots: 5
        wal_keep_size: 128MB
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
  pg_hba:
    - local all all trust
    - host replication replicator 127.0.0.1/32 trust
    - host all all 127.0.0.1/32 trust
postgresql:
  listen: 127.0.0.1:$pg
  connect_address: 127.0.0.1:$pg
  data_dir: $DIR/$name/data
  bin_dir: $PG_BIN
  pgpass: $DIR/$name/pgpass
  authentication:
    superuser:
      username: postgres
      password: postgres
    replication:
      username: replicator
      password: replicator
    rewind:
      username: postgres
      password: postgres
  parameters:
    unix_socket_directories: $DIR/$name
EOF
}
# patronictl reads the cluster from etcd; a file of its own keeps node
# configuration paths off any command line but Patroni's.
printf 'scope: %s\netcd3:\n  hosts: 127.0.0.1:%s\n' "$SCOPE" "$ETCD_CLIENT" >"$DIR/patronictl.yml"
write_node_config node0 "$PG0" "$REST0"
write_node_config node1 "$PG1" "$REST1"
chown -R postgres:postgres "$DIR"

t0=$(date +%s.%N)
node_start "$DIR" node0
# The first node bootstraps the cluster; the second then copies it.
for _ in $(seq 150); do
	curl -sf "http://127.0.0.1:$REST0/primary" >/dev/null && break
	sleep 0.2
done
curl -sf "http://127.0.0.1:$REST0/primary" >/dev/null || {
	echo "ha-failover: the first node did not become primary" >&2
	exit 1
}
node_start "$DIR" node1
for _ in $(seq 300); do
	curl -sf "http://127.0.0.1:$REST1/sync" >/dev/null && break
	sleep 0.2
done
curl -sf "http://127.0.0.1:$REST1/sync" >/dev/null || {
	echo "ha-failover: the second node did not become a synchronous standby" >&2
	exit 1
}
awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "cluster up with a synchronous standby in %.1f s\n", b - a }'

# --- two Poise instances ---------------------------------------------------
# Every node in the URL; each new connection keeps the first that takes
# writes, and gives up on a host after connect_timeout seconds.
DB_URL="postgres://postgres@127.0.0.1:$PG0,127.0.0.1:$PG1/postgres?target_session_attrs=read-write&connect_timeout=2&sslmode=disable"
(cd "$REPO" && go build -o "$DIR/poise" ./cmd/poise)
KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
start_poise() { # index, port, extra flags
	POISE_ENCRYPTION_KEY=$KEY "$DIR/poise" serve --database-url "$DB_URL" --listen "127.0.0.1:$2" \
		--data-dir "$DIR/poise$1-data" --log-level warn "${@:3}" >>"$DIR/poise$1.log" 2>&1 &
	echo $! >"$DIR/poise$1.pid"
	disown
	for _ in $(seq 100); do
		curl -sf "http://127.0.0.1:$2/readyz" >/dev/null && return 0
		sleep 0.2
	done
	echo "ha-failover: poise $1 did not become ready" >&2
	return 1
}
# The first applies the migrations; the second finds them applied.
start_poise 0 "$API0"
start_poise 1 "$API1" --no-migrate

# --- load, faults and checks -----------------------------------------------
set +e
(cd "$REPO" && go run ./internal/hatest \
	--api "http://127.0.0.1:$API0,http://127.0.0.1:$API1" \
	--patroni "http://127.0.0.1:$REST0,http://127.0.0.1:$REST1" \
	--database-url "$DB_URL" \
	--kill-cmd "$REPO/scripts/ha-failover.sh __kill $DIR" \
	--start-cmd "$REPO/scripts/ha-failover.sh __start $DIR" \
	--switchover-cmd "patronictl -c $DIR/patronictl.yml switchover $SCOPE --force" \
	--kills "$KILLS" --switchovers "$SWITCHOVERS")
drive_rc=$?
set -e

echo "--- poise verify"
verify_rc=0
"$DIR/poise" verify --database-url "$DB_URL" || verify_rc=$?
if [ $drive_rc -ne 0 ] || [ $verify_rc -ne 0 ]; then
	echo "ha-failover: FAILED (checks exit $drive_rc, verify exit $verify_rc)" >&2
	exit 1
fi
echo "ha-failover: passed"
