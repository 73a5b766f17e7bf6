#!/usr/bin/env bash
# Starts the services the tests need and writes their addresses to .ci/services.env:
#   - a PostgreSQL server for the Optuna RDB storage tests (tests/bench/search/, tests/bench/queue/),
#     listening on 127.0.0.1 only, on a free port, with a database and a password-protected user,
#     and a second database for the backend of the MLflow server the run-queue tests start
#     (MLflow and Optuna both keep an alembic_version table: they cannot share one database);
#   - psycopg2 (the project's `postgres` extra).
# Debian's postgresql package is installed with apt-get when no server binaries are found.
# Idempotent and fast when run again: a server already running from $BENCH_PG_DIR is reused.
#
#   bash .ci/services.sh && source .ci/services.env    # then: python -m pytest
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1
PGDIR="${BENCH_PG_DIR:-/tmp/bench-ci-postgres}"
ENV_FILE=".ci/services.env"
DB=bench
MLFLOW_DB=bench_mlflow
USER_NAME=bench

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

pg_bindir() {
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
    if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"; return
    fi
}

BIN="$(pg_bindir || true)"
if [ -z "$BIN" ]; then
    echo "services.sh: installing PostgreSQL (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq postgresql >/dev/null
    BIN="$(pg_bindir)"
fi

# The server refuses to run as root: as root, run it as the postgres user.
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PGDIR" --shell /bin/sh postgres
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi

running() { [ -f "$PGDIR/port" ] && as_pg "$BIN/pg_ctl" -D "$PGDIR/data" status >/dev/null 2>&1; }

if running; then
    PORT="$(cat "$PGDIR/port")"
    echo "services.sh: PostgreSQL already running on 127.0.0.1:$PORT ($PGDIR)"
else
    if [ ! -f "$PGDIR/data/PG_VERSION" ]; then
        rm -rf "$PGDIR"
        mkdir -p "$PGDIR"
        [ "$(id -u)" -eq 0 ] && chown postgres "$PGDIR"
        as_pg "$BIN/initdb" -D "$PGDIR/data" -U postgres --auth-local=trust \
            --auth-host=scram-sha-256 --encoding=UTF8 --no-instructions >/dev/null
        python -c "import secrets; print(secrets.token_hex(16))" > "$PGDIR/password"
        chmod 600 "$PGDIR/password"
    fi
    PORT="$(python -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")"
    # Local socket in $PGDIR (not /var/run/postgresql); TCP on 127.0.0.1 only; no fsync
    # (a throw-away test server: speed over durability).
    as_pg "$BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 60 start -o \
        "-c listen_addresses=127.0.0.1 -p $PORT -k $PGDIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        >/dev/null
    echo "$PORT" > "$PGDIR/port"
    echo "services.sh: PostgreSQL started on 127.0.0.1:$PORT ($PGDIR)"
fi

PASSWORD="$(cat "$PGDIR/password")"
psql_pg() { as_pg "$BIN/psql" -h "$PGDIR" -p "$PORT" -U postgres -d postgres -qtA -v ON_ERROR_STOP=1 "$@"; }
if [ "$(psql_pg -c "SELECT 1 FROM pg_roles WHERE rolname = '$USER_NAME'")" != "1" ]; then
    psql_pg -c "CREATE ROLE $USER_NAME LOGIN PASSWORD '$PASSWORD'"
fi
for database in "$DB" "$MLFLOW_DB"; do
    if [ "$(psql_pg -c "SELECT 1 FROM pg_database WHERE datname = '$database'")" != "1" ]; then
        psql_pg -c "CREATE DATABASE $database OWNER $USER_NAME"
    fi
done

if python -c "import psycopg2" >/dev/null 2>&1; then
    echo "services.sh: psycopg2 present"
else
    echo "services.sh: installing psycopg2 (pip, the postgres extra)"
    python -m pip install -q -e ".[postgres]"
fi

URL="postgresql://$USER_NAME:$PASSWORD@127.0.0.1:$PORT/$DB"
python - "$URL" <<'EOF'
import sys
import psycopg2
psycopg2.connect(sys.argv[1], connect_timeout=10).close()
EOF
umask 077
cat > "$ENV_FILE" <<EOF
# Written by .ci/services.sh: the services the tests use (source this file).
export BENCH_TEST_POSTGRES_URL=$URL
export BENCH_TEST_MLFLOW_DB_URL=postgresql://$USER_NAME:$PASSWORD@127.0.0.1:$PORT/$MLFLOW_DB
EOF
echo "services.sh: wrote $ENV_FILE (BENCH_TEST_POSTGRES_URL=postgresql://$USER_NAME:***@127.0.0.1:$PORT/$DB)"
