#!/usr/bin/env bash
# Backups of Emporium's PostgreSQL shape: physical (pg_basebackup + WAL
# archive, restore to a point in time) and logical (pg_dump of every Emporium
# schema in one snapshot). The runbook is docs/backup.md.
#
#   scripts/pg-backup.sh archive-on  URL ARCHIVE_DIR
#       turn WAL archiving on (ALTER SYSTEM: wal_level, archive_mode,
#       archive_command copying each finished segment into ARCHIVE_DIR);
#       the server must then be restarted once
#   scripts/pg-backup.sh base        URL OUT_DIR
#       online base backup (pg_basebackup, plain format, WAL streamed in,
#       fast checkpoint), then checked by pg_verifybackup
#   scripts/pg-backup.sh verify      OUT_DIR
#       pg_verifybackup: every file against the backup's manifest
#   scripts/pg-backup.sh mark        URL NAME
#       create the named restore point NAME and switch WAL so it is archived
#   scripts/pg-backup.sh flush       URL
#       switch WAL and wait until the segment is in the archive (what a
#       restore to "now" needs)
#   scripts/pg-backup.sh restore     BASE_DIR ARCHIVE_DIR PGDATA (--time T | --name NAME | --latest)
#       make PGDATA (must be absent or empty) a copy of BASE_DIR that, when
#       the server starts on it, replays the archive up to T (a timestamp
#       with time zone, e.g. '2026-12-01 11:00:00+00') or the restore point
#       NAME, or to the end, then promotes
#   scripts/pg-backup.sh dump        URL FILE
#       pg_dump custom format of the schemas product, user, cart, order,
#       notification in one snapshot; FILE.sha256 beside it
#   scripts/pg-backup.sh restore-dump URL FILE
#       check FILE against FILE.sha256, then restore it into URL's database:
#       the schemas dropped and re-created from the dump in one transaction
#   scripts/pg-backup.sh hold-events URL
#       after a restore, before the shop starts: mark every outbox event still
#       unsent as sent, so no email goes out twice (docs/backup.md); prints
#       the events held back
#
# URL: postgres://user[:password]@host:port/database (a superuser or a role
# with REPLICATION for `base`). PG_BIN: the server's binaries (default
# /usr/lib/postgresql/15/bin). PG_USER: the user the server runs as, owner of
# a restored PGDATA when this runs as root (default postgres).
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_USER=${PG_USER:-postgres}
SCHEMAS=(product user cart order notification)
OUTBOX_SCHEMAS=(product user order)

log() { echo "pg-backup: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}
need() { [ -n "${1:-}" ] || die "missing argument: $2 (see the top of $0)"; }
psql_() { PGOPTIONS="-c client_min_messages=warning" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -tA "$@"; }
is_root() { [ "$(id -u)" -eq 0 ]; }

archive_on() {
  local url=$1 archive=$2
  need "$archive" ARCHIVE_DIR
  if is_root && id "$PG_USER" >/dev/null 2>&1; then
    install -d -o "$PG_USER" -m 700 "$archive"
  else
    mkdir -p "$archive"
  fi
  psql_ "$url" <<SQL
ALTER SYSTEM SET wal_level = 'replica';
ALTER SYSTEM SET archive_mode = 'on';
ALTER SYSTEM SET archive_command = 'test ! -f $archive/%f && cp %p $archive/%f.tmp && mv $archive/%f.tmp $archive/%f';
ALTER SYSTEM SET full_page_writes = 'on';
SQL
  log "archiving to $archive is set; restart the server once to turn it on"
}

base() {
  local url=$1 out=$2
  need "$out" OUT_DIR
  [ ! -e "$out" ] || die "$out exists: name a new directory"
  local started=$SECONDS
  "$PG_BIN/pg_basebackup" -d "$url" -D "$out" -Fp -X stream -c fast || die "pg_basebackup failed"
  "$PG_BIN/pg_verifybackup" -q "$out" || die "the new base backup $out does not verify"
  log "base backup $out taken and verified in $((SECONDS - started)) s ($(du -sh "$out" | cut -f1))"
}

verify() {
  local dir=$1
  need "$dir" OUT_DIR
  [ -f "$dir/backup_manifest" ] || die "$dir has no backup_manifest: not a base backup"
  "$PG_BIN/pg_verifybackup" -q -n "$dir" || die "base backup $dir is corrupted (pg_verifybackup above)"
  log "base backup $dir is sound"
}

# Switches to a new WAL segment and waits until the archiver has it.
flush() {
  local url=$1 segment i
  segment=$(psql_ "$url" -c "SELECT pg_walfile_name(pg_switch_wal())")
  for ((i = 0; i < 300; i++)); do
    if [ "$(psql_ "$url" -c "SELECT coalesce(last_archived_wal >= '$segment', false)
      FROM pg_stat_archiver")" = t ]; then
      log "WAL up to $segment archived"
      return 0
    fi
    sleep 0.1
  done
  die "segment $segment was not archived within 30 s (archive_command failing? see the server log)"
}

mark() {
  local url=$1 name=$2
  need "$name" NAME
  psql_ "$url" -c "SELECT pg_create_restore_point('$name')" >/dev/null
  log "restore point '$name' created"
  flush "$url"
}

restore() {
  local base=$1 archive=$2 pgdata=$3 kind=${4:-} target=${5:-}
  need "$pgdata" PGDATA
  [ -d "$archive" ] || die "no WAL archive at $archive"
  verify "$base"
  if [ -e "$pgdata" ] && [ -n "$(ls -A "$pgdata")" ]; then
    die "$pgdata is not empty: stop the server and move its data away first"
  fi
  local setting
  case "$kind" in
    --time) need "$target" T && setting="recovery_target_time = '$target'" ;;
    --name) need "$target" NAME && setting="recovery_target_name = '$target'" ;;
    --latest) setting="" ;;
    *) die "restore needs --time T, --name NAME or --latest" ;;
  esac
  mkdir -p "$pgdata"
  cp -a "$base/." "$pgdata/"
  rm -f "$pgdata/backup_manifest" "$pgdata/postmaster.pid"
  cat >>"$pgdata/postgresql.auto.conf" <<EOF
# pg-backup.sh restore $(date -u +%FT%TZ)
restore_command = 'cp $archive/%f %p'
$setting
recovery_target_action = 'promote'
EOF
  touch "$pgdata/recovery.signal"
  if is_root && id "$PG_USER" >/dev/null 2>&1; then
    chown -R "$PG_USER" "$pgdata"
  fi
  chmod 700 "$pgdata"
  log "$pgdata ready: start the server on it; it replays the archive ${target:+to $target }and promotes"
}

dump() {
  local url=$1 file=$2 args=() s started=$SECONDS
  need "$file" FILE
  for s in "${SCHEMAS[@]}"; do
    args+=(--schema="\"$s\"")
  done
  "$PG_BIN/pg_dump" -d "$url" -Fc --no-owner "${args[@]}" -f "$file.partial" ||
    die "pg_dump failed"
  mv "$file.partial" "$file"
  (cd "$(dirname "$file")" && sha256sum "$(basename "$file")" >"$(basename "$file").sha256")
  log "dump $file written in $((SECONDS - started)) s ($(du -h "$file" | cut -f1))"
}

restore_dump() {
  local url=$1 file=$2 s drop="" started=$SECONDS
  need "$file" FILE
  [ -f "$file" ] || die "no dump at $file"
  [ -f "$file.sha256" ] || die "no $file.sha256 beside the dump: cannot tell it is intact"
  (cd "$(dirname "$file")" && sha256sum --quiet -c "$(basename "$file").sha256") ||
    die "refusing to restore: $file does not match $file.sha256 (the dump is corrupted)"
  "$PG_BIN/pg_restore" -l "$file" >/dev/null || die "refusing to restore: $file is not a readable dump"
  for s in "${SCHEMAS[@]}"; do
    drop+="DROP SCHEMA IF EXISTS \"$s\" CASCADE; "
  done
  # One transaction: the schemas dropped and the dump loaded, or, on any
  # error, nothing changed.
  { echo "$drop" && "$PG_BIN/pg_restore" --no-owner -f - "$file"; } |
    psql_ -o /dev/null --single-transaction -d "$url" ||
    die "pg_restore failed; nothing was changed (one transaction)"
  log "restored $file into the database in $((SECONDS - started)) s"
}

hold_events() {
  local url=$1 s now
  now=$(($(date +%s) * 1000000))
  for s in "${OUTBOX_SCHEMAS[@]}"; do
    if [ "$(psql_ "$url" -c "SELECT to_regclass('\"$s\".outbox') IS NOT NULL")" = t ]; then
      psql_ "$url" -c "UPDATE \"$s\".outbox SET sent_at = $now, claimed_by = NULL,
        claimed_until = NULL, last_error = 'held back by pg-backup.sh hold-events'
        WHERE sent_at IS NULL RETURNING '$s: ' || type || ' ' || id"
    fi
  done
}

verb=${1:-}
shift || true
case "$verb" in
  archive-on) archive_on "${1:?URL}" "${2:-}" ;;
  base) base "${1:?URL}" "${2:-}" ;;
  verify) verify "${1:-}" ;;
  mark) mark "${1:?URL}" "${2:-}" ;;
  flush) flush "${1:?URL}" ;;
  restore) restore "${1:?BASE_DIR}" "${2:?ARCHIVE_DIR}" "${3:-}" "${4:-}" "${5:-}" ;;
  dump) dump "${1:?URL}" "${2:-}" ;;
  restore-dump) restore_dump "${1:?URL}" "${2:-}" ;;
  hold-events) hold_events "${1:?URL}" ;;
  *) die "unknown command '${verb}': archive-on, base, verify, mark, flush, restore, dump, restore-dump, hold-events" ;;
esac
