#!/usr/bin/env bash
# Builds the one container image every Emporium service runs from:
#
#   scripts/image.sh [BUILD_DIR]      # default: build
#
# FROM scratch, over a root file system staged here in a temporary directory:
#   /emporium                     the binary, stripped
#   /lib..., /lib64/ld-linux...   exactly the shared libraries ldd resolves,
#                                 the dynamic loader included, at their paths
#   /etc/ssl/certs/ca-certificates.crt
#   /etc/passwd, /etc/group       root and the user emporium, uid/gid 10001
#   /etc/nsswitch.conf            files (and dns for hosts), for getaddrinfo
#   /tmp, /data                   empty, owned by 10001 (WORKDIR /data)
# USER 10001:10001, ENTRYPOINT ["/emporium"], CMD ["serve"], EXPOSE 8080.
#
# Tags localhost/emporium:<version> (from `emporium version`) and
# localhost/emporium:local (the tag the Kubernetes `local` overlay runs);
# never `latest`. Prints the image size at the end and fails when it is over
# EMPORIUM_IMAGE_MAX_MB (default 30, as `podman image inspect` counts it).
#
# Environment:
#   EMPORIUM_IMAGE_NAME    repository (default localhost/emporium)
#   EMPORIUM_IMAGE_SOURCE  org.opencontainers.image.source (default: the git
#                          remote `origin`; the label is left out without one)
#   EMPORIUM_IMAGE_MAX_MB  size limit in MB (1 MB = 10^6 bytes), default 30
#
# Needs podman and buildah (scripts/install-deps.sh) and runs as root, or
# re-runs itself under `buildah unshare` as an ordinary user.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in
  /*) ;;
  *) build=$root/$build ;;
esac
binary=$build/emporium
name=${EMPORIUM_IMAGE_NAME:-localhost/emporium}
max_mb=${EMPORIUM_IMAGE_MAX_MB:-30}

log() { echo "image: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

for tool in buildah podman ldd objcopy; do
  command -v "$tool" >/dev/null || die "no $tool (run scripts/install-deps.sh)"
done
[ -x "$binary" ] || die "no binary at $binary (run make build)"

if [ "$(id -u)" -ne 0 ] && [ -z "${EMPORIUM_IMAGE_UNSHARED:-}" ]; then
  export EMPORIUM_IMAGE_UNSHARED=1
  exec buildah unshare "$0" "$@"
fi

# `emporium version` prints "emporium 0.1.0 (0d19c41)".
version_line=$("$binary" version)
version=$(awk '{print $2}' <<<"$version_line")
[[ $version =~ ^[0-9A-Za-z][0-9A-Za-z._-]*$ ]] ||
  die "cannot read a version from '$version_line'"
[ "$version" != latest ] || die "version 'latest' is not a tag this script writes"
revision=$(git -C "$root" rev-parse HEAD 2>/dev/null) ||
  revision=$(sed -nE 's/.*\(([^)]*)\).*/\1/p' <<<"$version_line")
source_url=${EMPORIUM_IMAGE_SOURCE:-$(git -C "$root" config --get remote.origin.url 2>/dev/null || true)}
# File times and the creation time of the image: the commit's, so an
# unchanged tree gives the same image.
epoch=$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)

tmp=$(mktemp -d /tmp/emporium-image.XXXXXX)
container=
cleanup() {
  if [ -n "$container" ]; then
    buildah rm "$container" >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

rootfs=$tmp/rootfs
mkdir -p "$rootfs"

# The binary, without symbols or debug information.
objcopy --strip-all "$binary" "$rootfs/emporium"
chmod 0755 "$rootfs/emporium"

# Every shared object ldd resolves, the loader included, at the path the
# loader looks for it (the soname: symlinks are followed, the file copied).
libs=$(ldd "$binary" | awk '
  $2 == "=>" && $3 ~ /^\// { print $3 }
  $1 ~ /^\// { print $1 }
  $2 == "=>" && $3 == "not" { print "MISSING " $1 }')
if grep -q '^MISSING' <<<"$libs"; then
  die "unresolved libraries: $(grep '^MISSING' <<<"$libs" | cut -d' ' -f2 | tr '\n' ' ')"
fi
for lib in $libs; do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done
log "$(wc -w <<<"$libs") shared objects from ldd"

mkdir -p "$rootfs/etc/ssl/certs"
[ -s /etc/ssl/certs/ca-certificates.crt ] ||
  die "no /etc/ssl/certs/ca-certificates.crt (install ca-certificates)"
cp -L /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"

cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
emporium:x:10001:10001:emporium:/data:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
EOF
cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
emporium:x:10001:
nogroup:x:65534:
EOF
cat >"$rootfs/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
hosts: files dns
EOF
chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group" "$rootfs/etc/nsswitch.conf"

install -d -m 1777 -o 10001 -g 10001 "$rootfs/tmp"
install -d -m 0750 -o 10001 -g 10001 "$rootfs/data"

labels=(
  --label "org.opencontainers.image.title=emporium"
  --label "org.opencontainers.image.description=Emporium e-commerce services, one binary"
  --label "org.opencontainers.image.version=$version"
  --label "org.opencontainers.image.revision=$revision"
)
if [ -n "$source_url" ]; then
  labels+=(--label "org.opencontainers.image.source=$source_url")
else
  log "no git remote 'origin' and no EMPORIUM_IMAGE_SOURCE: label org.opencontainers.image.source left out"
fi

container=$(buildah from --quiet scratch)
mnt=$(buildah mount "$container")
# Numeric owners as staged (root, and 10001 for /tmp and /data).
tar -C "$rootfs" --numeric-owner -cf - . | tar -C "$mnt" --numeric-owner -xpf -
buildah umount "$container" >/dev/null

buildah config \
  --os linux --arch "$(podman info --format '{{.Host.Arch}}')" \
  --user 10001:10001 \
  --entrypoint '["/emporium"]' \
  --cmd serve \
  --port 8080/tcp \
  --workingdir /data \
  --env EMPORIUM_DATA_DIR=/data \
  --stop-signal SIGTERM \
  "${labels[@]}" \
  --created-by "scripts/image.sh" \
  "$container"

old_id=$(podman image inspect --format '{{.Id}}' "$name:local" 2>/dev/null || true)
buildah commit --quiet --rm --timestamp "$epoch" --identity-label=false \
  "$container" "$name:$version" >/dev/null
container=
buildah tag "$name:$version" "$name:local"
new_id=$(podman image inspect --format '{{.Id}}' "$name:local")
# The image this replaced, when nothing else names it any more.
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ] &&
  [ "$(podman image inspect --format '{{len .RepoTags}}' "$old_id" 2>/dev/null)" = 0 ]; then
  podman rmi "$old_id" >/dev/null 2>&1 || true
fi

# The image runs and is the binary it was built from.
in_image=$(podman run --rm --network none "$name:$version" version)
[ "$in_image" = "$version_line" ] ||
  die "the image says '$in_image', the binary '$version_line'"

size=$(podman image inspect --format '{{.Size}}' "$name:$version")
mb=$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1e6 }')
echo "image: $name:$version ($name:local) ${new_id:0:12}, $size bytes = $mb MB"
if [ "$size" -gt $((max_mb * 1000000)) ]; then
  log "largest files:"
  (cd "$rootfs" && find . -type f -printf '%s %p\n' | sort -rn | head -n 10) >&2
  die "image is $mb MB, over the $max_mb MB limit (EMPORIUM_IMAGE_MAX_MB)"
fi
