# Sourced by scripts/test.sh and scripts/instrumented.sh (not run on its own).
#
# start_test_services: unless EMPORIUM_TEST_SERVICES_DIR says they run
# already, starts the servers the integration tests need
# (scripts/local-services.sh) under a fresh directory, exports their
# EMPORIUM_TEST_* variables, and stops them and removes the directory when
# the calling script exits.
start_test_services() {
  if [ -n "${EMPORIUM_TEST_SERVICES_DIR:-}" ]; then
    return 0
  fi
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  # A short path under /tmp: unix socket paths are limited to 107 bytes.
  test_services_dir=$(mktemp -d /tmp/emporium-services.XXXXXX)
  test_services_root=$root
  trap stop_test_services EXIT
  eval "$("$root/scripts/local-services.sh" start "$test_services_dir")"
}

stop_test_services() {
  "$test_services_root/scripts/local-services.sh" stop "$test_services_dir" >/dev/null 2>&1 || true
  rm -rf "$test_services_dir"
}
