# Sourced by .ci/run: start Debian's PostgreSQL (installing it when missing, as root) and export
# TEST_DATABASE_URL so the store's tests run on PostgreSQL as well as SQLite. The server refuses
# to run as root, so pg_ctlcluster starts it as the postgres user.
start_postgres() {
  if [ "$(id -u)" != 0 ]; then
    echo "note: not root, so PostgreSQL is not started; its tests will be skipped" >&2
    return 0
  fi
  if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
    echo "installing PostgreSQL" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null
  fi
  local version cluster port
  read -r version cluster port _ < <(pg_lsclusters -h | sort -V | tail -n 1)
  pg_ctlcluster "$version" "$cluster" start 2>/dev/null || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p "$port" && break; sleep 1; done
  pg_isready -q -h 127.0.0.1 -p "$port" || { echo "error: PostgreSQL did not start" >&2; return 1; }
  su postgres -c "psql -p $port -qtAc \"SELECT 1 FROM pg_roles WHERE rolname = 'ivr_test'\"" | grep -q 1 \
    || su postgres -c "psql -p $port -qc \"CREATE ROLE ivr_test LOGIN PASSWORD 'ivr_test'\""
  su postgres -c "psql -p $port -qtAc \"SELECT 1 FROM pg_database WHERE datname = 'ivr_test'\"" | grep -q 1 \
    || su postgres -c "createdb -p $port -O ivr_test ivr_test"
  export TEST_DATABASE_URL="postgresql://ivr_test:ivr_test@127.0.0.1:$port/ivr_test"
  echo "PostgreSQL $version on port $port for the tests" >&2
}
