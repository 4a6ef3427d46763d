# Ephemera service image. The sandbox needs bubblewrap (user, pid, net, ipc,
# uts and mount namespaces): run the container with
#   --security-opt seccomp=unconfined --security-opt apparmor=unconfined
# (docker-compose.yml does). Ephemera refuses to run when it cannot sandbox.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap strace python3 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# npm install, not npm ci: chdb lists optional platform packages the registry does not serve (README).
# (npm install's prepare builds dist/ only where src/ is: not yet, here.)
RUN npm install --omit=dev --no-audit --no-fund
COPY . .
# The compiled JavaScript bin/ephemera.js runs (dist/ is not copied: .dockerignore); esbuild and tsx are runtime dependencies.
RUN npm run build
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
