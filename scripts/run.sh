#!/usr/bin/env bash
# make run. Without TELEGRAM_TOKEN: the sandbox — the whole service with a fake
# Telegram, a web chat and a cashier page, on a private PostgreSQL (or
# DATABASE_URL) and an embedded Redis (or REDIS_URL); it prints the URL to open.
# With TELEGRAM_TOKEN: the real service — creates the local database when it is
# missing, applies migrations, loads the shipped catalogue, then serves.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${TELEGRAM_TOKEN:-}" ]; then
  export SW_ENV="${SW_ENV:-sandbox}"
  exec ./bin/socialwallet sandbox
fi
: "${DATABASE_URL:=postgres://postgres@127.0.0.1:5432/socialwallet?sslmode=disable}"
export DATABASE_URL
if [ -z "${SW_SECRET:-}" ]; then
  echo "SW_SECRET not set: running with SW_ENV=sandbox and its built-in secret (not for production)" >&2
  export SW_ENV=sandbox
fi
db=$(sed -E 's#.*/([^/?]+)(\?.*)?$#\1#' <<<"$DATABASE_URL")
admin=$(sed -E "s#/[^/?]+(\?.*)?\$#/postgres\1#" <<<"$DATABASE_URL")
psql "$admin" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 \
  || psql "$admin" -c "CREATE DATABASE \"$db\"" >/dev/null
./bin/socialwallet migrate
./bin/socialwallet import-catalog >/dev/null
exec ./bin/socialwallet serve
