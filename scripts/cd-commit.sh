#!/usr/bin/env bash
# Commits the overlays' tag changes on main and pushes them (the CD
# pipeline's release commits; Argo CD syncs what main says). Retries on a
# concurrent push by rebasing. Does nothing when no overlay changed.
#
#   scripts/cd-commit.sh "Deploy 0.1.0-gabc1234 to staging"
#   scripts/cd-commit.sh "Roll back prod to 0.1.0" "Rollback-Of: 0.2.0"
#
# The optional second argument is a trailer paragraph: a rollback records
# the tag it undid, which set-image.mjs --previous then never returns to.
set -euo pipefail
message=${1:?usage: cd-commit.sh MESSAGE [TRAILER]}
trailer=${2:-}
cd "$(dirname "$0")/.."
if git diff --quiet -- deploy/k8s/overlays; then
  echo "cd-commit: no overlay changed"
  exit 0
fi
git config user.name "emporium-cd"
git config user.email "emporium-cd@users.noreply.github.com"
git add deploy/k8s/overlays
if [ -n "$trailer" ]; then git commit -m "$message" -m "$trailer"; else git commit -m "$message"; fi
for attempt in 1 2 3; do
  if git push origin HEAD:main; then
    exit 0
  fi
  echo "cd-commit: push refused (attempt $attempt), rebasing on main"
  git pull --rebase origin main
done
echo "cd-commit: could not push" >&2
exit 1
