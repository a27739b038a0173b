#!/bin/sh
# Creates one database per service, owned by POSTGRES_USER. The postgres image runs the
# scripts in /docker-entrypoint-initdb.d once, on the first start of an empty data volume;
# CONVENE_DATABASES (space-separated) comes from docker-compose.yml.
set -eu

: "${CONVENE_DATABASES:?CONVENE_DATABASES must list the databases to create}"

for db in $CONVENE_DATABASES; do
  # The names are interpolated into SQL below: allow identifiers only.
  case "$db" in
    *[!a-z0-9_]* | "" | [0-9]*)
      echo "create-databases: refusing database name '$db'" >&2
      exit 1
      ;;
  esac
  echo "create-databases: creating $db"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -c "CREATE DATABASE $db OWNER \"$POSTGRES_USER\""
done
