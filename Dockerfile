# Ephemera service image, reproducible (docs/reproducible-builds.md): the same
# commit gives the same image digest. Build it with
#   export SOURCE_DATE_EPOCH=$(npm run --silent bundle -- --source-date-epoch)
#   buildah bud --isolation chroot --no-cache --layers=false --timestamp "$SOURCE_DATE_EPOCH" \
#     --build-arg SOURCE_DATE_EPOCH -t ephemera .
# (CI builds it twice this way and compares: scripts/image/two-builds.sh), or with Docker's BuildKit >= 0.13:
#   docker buildx build --no-cache --build-arg SOURCE_DATE_EPOCH \
#     --output type=oci,dest=ephemera.oci.tar,rewrite-timestamp=true .
# The base is pinned by digest, Debian's packages by version from one
# snapshot.debian.org date, and the application is the bundle `npm run bundle`
# makes (fixed order, owners, modes and times), built here in the pinned base.
#
# The sandbox needs bubblewrap (user, pid, net, ipc, uts and mount
# namespaces): run the container with
#   --security-opt seccomp=unconfined --security-opt apparmor=unconfined
# (docker-compose.yml does). Ephemera refuses to run when it cannot sandbox.
# The base, by digest. CI's image two-build (scripts/image/two-builds.sh) passes a stand-in made from Debian's
# archive, as no registry is reachable there.
ARG BASE=node:20-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0
# Debian as it was at this instant: every package below resolves to one version (deploy/image/runtime.json).
# Empty: deb.debian.org as it is now (CI's two-build, where snapshot.debian.org is not reachable).
ARG SNAPSHOT=20261203T000000Z

FROM ${BASE} AS debian-snapshot
ARG SNAPSHOT
RUN rm -f /etc/apt/sources.list.d/debian.sources \
 && if [ -n "$SNAPSHOT" ]; then \
      printf 'deb [check-valid-until=no] http://snapshot.debian.org/archive/%s/%s %s main\n' \
        debian "$SNAPSHOT" bookworm debian "$SNAPSHOT" bookworm-updates debian-security "$SNAPSHOT" bookworm-security; \
    else \
      printf 'deb http://deb.debian.org/%s %s main\n' debian bookworm debian bookworm-updates debian-security bookworm-security; \
    fi > /etc/apt/sources.list

# The bundle, built in the pinned base with pinned compilers (its manifest names them).
FROM debian-snapshot AS bundle
RUN apt-get update \
 && apt-get install -y --no-install-recommends git python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# better-sqlite3 compiles against the headers of the Node.js it runs on, which the base carries, rather than
# headers fetched from nodejs.org at build time.
ENV npm_config_nodedir=/usr/local
# The whole checkout, .git included (a full clone: not shallow, not a worktree, whose .git points outside the
# context): the bundle is built from the commit, never from the working tree.
COPY . .
# The npm the lockfile was written with, by its sha512: the base's npm 10 rewrites the lockfile (it drops the
# optional packages' libc fields), and the bundle refuses a lockfile its install changed. Then tsx (to run the
# bundle script) from the lockfile; the bundle installs its own production dependencies.
RUN npm pack --silent npm@11.19.1 \
 && echo "cedb312b1b7f92421a02cfb68b4194e88f8346651dacd6acc5364a25ef5309d4a32b19616a1ff8aff865e7280c0fa5c0835a99f5cd93368991e2a80ec9da75d2  npm-11.19.1.tgz" | sha512sum --check --quiet \
 && npm install --global --no-audit --no-fund ./npm-11.19.1.tgz && rm npm-11.19.1.tgz \
 && npm install --no-audit --no-fund --ignore-scripts && npm run bundle

FROM debian-snapshot
# The sandbox's tools at the versions deploy/image/runtime.json declares (test/deploy/deployment.test.ts keeps the two
# equal), Python's other parts at the same version. Logs and caches that record the time of installation are removed
# with the lists (apt's binary caches among them: the image two-build found them differing), and so is the bytecode
# Debian compiles at installation (its bytes are not reproducible; Python runs without it, and writes none here).
RUN apt-get update \
 && apt-get install -y --no-install-recommends --allow-downgrades \
      bash=5.2.15-2+b13 bubblewrap=0.8.0-2+deb12u1 grep=3.8-5 python3.11-minimal=3.11.2-6+deb12u9 strace=6.1-0.1 \
      python3.11=3.11.2-6+deb12u9 libpython3.11-minimal=3.11.2-6+deb12u9 libpython3.11-stdlib=3.11.2-6+deb12u9 \
      python3=3.11.2-1+b1 python3-minimal=3.11.2-1+b1 ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log /var/cache/ldconfig/aux-cache \
      /var/cache/debconf/*-old /var/lib/dpkg/*-old \
 && find /usr/lib/python3 /usr/lib/python3.11 -name __pycache__ -prune -exec rm -rf {} +
ENV PYTHONDONTWRITEBYTECODE=1
COPY --from=bundle /src/build/ephemera-bundle.tar /tmp/ephemera-bundle.tar
# The bundle as it is (its times, owners and modes), and its hash beside it (build-info there prints it); the image
# build fails if the tools are not the declared ones.
RUN mkdir /app \
 && tar -xf /tmp/ephemera-bundle.tar -C /app \
 && echo "sha256:$(sha256sum /tmp/ephemera-bundle.tar | cut -d' ' -f1)" > /app/BUNDLE.sha256 \
 && rm /tmp/ephemera-bundle.tar \
 && node /app/bin/ephemera.js build-info --check-runtime
WORKDIR /app
ENV EPHEMERA_DATA_DIR=/var/lib/ephemera EPHEMERA_HOST=0.0.0.0 PORT=8080
VOLUME /var/lib/ephemera
EXPOSE 8080
# Core dumps off for the service too (THREATS C25). With CAP_SYS_ADMIN and a
# private cgroup namespace (docker-compose.yml grants both) the cgroup mount is
# made writable, so the sandbox's limits are cgroup v2 ones; without them the
# remount fails quietly and the service falls back per limit (docs/sandbox.md),
# logging at start what enforces each, and every certificate says which.
# CAP_SYS_ADMIN is for the remount only: the service itself runs without it
# (bounding and inheritable sets), so a compromised service cannot mount.
CMD ["sh", "-c", "ulimit -c 0 && { mount -o remount,rw /sys/fs/cgroup 2>/dev/null || true; } && exec setpriv --bounding-set -sys_admin --inh-caps -sys_admin -- node bin/ephemera.js serve"]
