#!/usr/bin/env bash
# Waits until Argo CD has rolled an image tag out: the Application is Synced
# and Healthy (every Deployment has its new pods available), no sync is
# running, and every emporium image it runs carries TAG. The CD pipeline
# calls it after each tag bump, so the smoke test never meets the old pods.
#
#   ARGOCD_SERVER=https://argocd.staging.example.com ARGOCD_AUTH_TOKEN=... \
#     scripts/wait-rollout.sh emporium-staging 0.2.0-gabc1234
#
# Reads GET /api/v1/applications/APP only: a token of an Argo CD account
# with the role readonly is enough (docs/operations.md, "Argo CD").
# WAIT_TIMEOUT (seconds, default 900) bounds the wait; WAIT_INTERVAL
# (default 10) is the time between two reads. Needs curl and python3.
set -euo pipefail
app=${1:?usage: wait-rollout.sh APP TAG}
tag=${2:?usage: wait-rollout.sh APP TAG}
server=${ARGOCD_SERVER:?ARGOCD_SERVER is the Argo CD URL}
server=${server%/}
token=${ARGOCD_AUTH_TOKEN:?ARGOCD_AUTH_TOKEN is a read-only Argo CD token}
timeout=${WAIT_TIMEOUT:-900}
interval=${WAIT_INTERVAL:-10}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Prints "ready", or what is still missing.
state() {
  python3 - "$tmp/app.json" "$tag" <<'PY'
import json, sys
app = json.load(open(sys.argv[1]))
tag = sys.argv[2]
status = app.get("status", {})
sync = status.get("sync", {}).get("status")
health = status.get("health", {}).get("status")
phase = (status.get("operationState") or {}).get("phase")
images = [i for i in status.get("summary", {}).get("images", []) if "/emporium:" in i or i.startswith("emporium:")]
old = [i for i in images if i.rsplit(":", 1)[1] != tag]
missing = []
if sync != "Synced": missing.append(f"sync {sync}")
if health != "Healthy": missing.append(f"health {health}")
if phase in ("Running", "Terminating"): missing.append(f"operation {phase}")
if not images: missing.append("no emporium image")
if old: missing.append("still running " + ", ".join(sorted(old)))
print("ready" if not missing else "; ".join(missing))
PY
}

deadline=$((SECONDS + timeout))
last=
while :; do
  code=$(curl -sS --max-time 15 -o "$tmp/app.json" -w '%{http_code}' \
    -H "Authorization: Bearer $token" "$server/api/v1/applications/$app") || code=000
  if [ "$code" = 200 ]; then
    now=$(state)
    if [ "$now" = ready ]; then
      echo "wait-rollout: $app runs $tag, synced and healthy"
      exit 0
    fi
  else
    now="Argo CD answered $code"
    case $code in 401 | 403 | 404)
      echo "wait-rollout: FAIL $app: $now: $(head -c 300 "$tmp/app.json" 2>/dev/null)" >&2
      exit 1
      ;;
    esac
  fi
  [ "$now" != "$last" ] && echo "wait-rollout: $app: $now" >&2
  last=$now
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "wait-rollout: FAIL $app did not roll out $tag in ${timeout}s: $now" >&2
    exit 1
  fi
  sleep "$interval"
done
