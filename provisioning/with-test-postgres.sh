#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL 15 server for headquarters' tests, then stops it and
# deletes its files, whatever the command's outcome:
#   provisioning/with-test-postgres.sh swift test --skip-build
# The server runs as an unprivileged user (initdb refuses root) from a cluster made with initdb in a
# temporary folder, listens on 127.0.0.1 on a free port and on a socket in that folder only, and the
# command gets:
#   EDGE_HQ_TEST_DATABASE_URL  postgres://edge_hq:PASSWORD@127.0.0.1:PORT/edge_hq_test
#   EDGE_HQ_TEST_PGDATA        the cluster's folder, and EDGE_HQ_TEST_PG_BIN the server's programs,
#                              for tests that stop or kill the server and start it again
#   EDGE_HQ_TEST_PG_USER       the user the server runs as
set -euo pipefail

if [[ $# -eq 0 ]]; then
    echo "usage: $0 COMMAND [ARGUMENT...]" >&2
    exit 64
fi

bin=/usr/lib/postgresql/15/bin
if [[ ! -x "$bin/initdb" ]]; then
    echo "with-test-postgres: PostgreSQL 15 is not installed; run provisioning/install-build-deps.sh --test" >&2
    exit 1
fi

run_as=()
user=$(id -un)
if [[ $(id -u) -eq 0 ]]; then
    user=postgres
    if ! id "$user" >/dev/null 2>&1; then
        echo "with-test-postgres: running as root needs the postgres user (made by the postgresql-15 package)" >&2
        exit 1
    fi
    run_as=(runuser -u "$user" --)
fi

folder=$(mktemp -d /tmp/edge-hq-postgres.XXXXXX)
chmod 0755 "$folder"
data="$folder/data"
password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
if [[ $(id -u) -eq 0 ]]; then chown "$user" "$folder"; fi

# shellcheck disable=SC2317  # called by the EXIT trap
stop() {
    "${run_as[@]}" "$bin/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$folder"
}
trap stop EXIT

printf '%s\n' "$password" > "$folder/password"
if [[ $(id -u) -eq 0 ]]; then chown "$user" "$folder/password"; fi
"${run_as[@]}" "$bin/initdb" -D "$data" -U postgres --auth=scram-sha-256 --pwfile="$folder/password" \
    --encoding=UTF8 --locale=C.UTF-8 >"$folder/initdb.log" 2>&1 || {
    cat "$folder/initdb.log" >&2
    exit 1
}
cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$folder'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
"${run_as[@]}" "$bin/pg_ctl" -D "$data" -l "$folder/server.log" -w -t 60 start >/dev/null || {
    cat "$folder/server.log" >&2
    exit 1
}
export PGPASSWORD=$password
psql=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres)
"${psql[@]}" -c "CREATE ROLE edge_hq LOGIN CREATEDB PASSWORD '$password'"
"${psql[@]}" -c "CREATE DATABASE edge_hq_test OWNER edge_hq"
unset PGPASSWORD

export EDGE_HQ_TEST_DATABASE_URL="postgres://edge_hq:$password@127.0.0.1:$port/edge_hq_test"
export EDGE_HQ_TEST_PGDATA="$data"
export EDGE_HQ_TEST_PG_BIN="$bin"
export EDGE_HQ_TEST_PG_USER="$user"
status=0
"$@" || status=$?
exit "$status"
