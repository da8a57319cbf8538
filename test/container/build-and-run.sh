#!/usr/bin/env bash
# Builds the project's Dockerfile with a real engine (Debian's podman) and runs the image: `tierd
# --version`, `tierd topology`, then the daemon on the simulated host with /healthz, /metrics and
# the image's HEALTHCHECK answered, and a clean stop. Needs root and the Debian package mirror.
#
# No container registry is reachable on our machines, so the Dockerfile's base image
# (node:20-bookworm-slim) is stood in for by a local one: Debian bookworm by debootstrap from the
# Debian mirror, with this machine's Node 20 (node, npm) in /usr/local as the official image has
# it, imported under that name. The Dockerfile itself is built unchanged, with --pull=never.
#
# Exit 0: every check passed; 1: a check failed; 2: the engine or the base could not be set up.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${TIERD_VM_CACHE:-/root/.cache/tierd-vm}
BASE=docker.io/library/node:20-bookworm-slim
IMAGE=localhost/tierd:check
NAME=tierd-check-$$
# the image's HEALTHCHECK asks port 9477, as the README's line publishes it
PORT=9477
WORK=$(mktemp -d /tmp/tierd-container.XXXXXX)
log() { echo "[container $SECONDS s] $*"; }
fail() { echo "CONTAINER_FAIL $*" >&2; exit 1; }
cleanup() { podman rm -f "$NAME" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "needs root (podman's rootful storage, debootstrap)" >&2; exit 2; }
need=()
for tool in podman runc debootstrap jq; do command -v "$tool" >/dev/null || need+=("$tool"); done
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]} from the Debian mirror"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || { echo "apt-get could not install ${need[*]}" >&2; exit 2; }
fi
# runc, not Debian's default crun: crun refuses hosts with cgroups in hybrid mode (v1 controllers
# beside the unified tree), as this machine has them
podman() { command podman --runtime "$(command -v runc)" --cgroup-manager cgroupfs "$@"; }
log "$(podman --version), runtime $(runc --version | head -1)"
# podman raises a rootful container's open-file and process limits, which takes CAP_SYS_RESOURCE;
# a host (or sandbox) without it refuses the container ("error setting rlimits"): ask for limits
# at or under the usual ones instead, which tierd needs no more than
LIMITS=(--ulimit nofile=4096:4096 --ulimit nproc=4096:4096)
# podman schedules healthchecks with systemd timers; without systemd the check is run by hand below
LIMITS+=(--health-interval disable)

# the stand-in base image, built once per machine (cached as a tarball beside the VM kernels)
tarball=$CACHE/container-base-$(node --version).tar
if [ ! -f "$tarball" ]; then
  log "building the base: debootstrap bookworm minbase + $(node --version) in /usr/local"
  mkdir -p "$CACHE" "$WORK/root"
  debootstrap --variant=minbase bookworm "$WORK/root" http://deb.debian.org/debian > "$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log" >&2; echo "debootstrap failed" >&2; exit 2; }
  nodebin=$(readlink -f "$(command -v node)")
  npmdir=$(cd "$(dirname "$nodebin")/../lib/node_modules/npm" && pwd)
  mkdir -p "$WORK/root/usr/local/bin" "$WORK/root/usr/local/lib/node_modules"
  strip --strip-debug -o "$WORK/root/usr/local/bin/node" "$nodebin"
  cp -a "$npmdir" "$WORK/root/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$WORK/root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$WORK/root/usr/local/bin/npx"
  # this machine reaches the npm registry through an egress proxy with its own CA: the build's
  # npm ci needs it, as the host's npm does (NODE_EXTRA_CA_CERTS)
  if [ -n "${NODE_EXTRA_CA_CERTS:-}" ]; then
    mkdir -p "$WORK/root/usr/local/share/tierd-check"
    cp "$NODE_EXTRA_CA_CERTS" "$WORK/root/usr/local/share/tierd-check/extra-ca.crt"
  fi
  rm -rf "$WORK/root/var/cache/apt/archives"/*.deb "$WORK/root/var/lib/apt/lists"/*
  tar -C "$WORK/root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  rm -rf "$WORK/root"
fi
if ! podman image exists "$BASE"; then
  changes=(--change 'CMD ["node"]')
  tar -tf "$tarball" ./usr/local/share/tierd-check/extra-ca.crt >/dev/null 2>&1 \
    && changes+=(--change 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/tierd-check/extra-ca.crt')
  podman import "${changes[@]}" "$tarball" "$BASE" >/dev/null
fi

log "podman build (the Dockerfile as shipped, --pull=never)"
t0=$SECONDS
# --format docker: an OCI image has no HEALTHCHECK, and the Dockerfile's is checked below
podman build --pull=never --network=host --format docker -t "$IMAGE" "$ROOT" > "$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log" >&2; fail "podman build failed"; }
log "built in $((SECONDS - t0)) s: $(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MiB", $1 / 1048576}')"

version=$(podman run --rm "${LIMITS[@]}" "$IMAGE" --version) || fail "tierd --version failed in the image"
[[ "$version" == *"$(node -p "require('$ROOT/package.json').version")"* ]] || fail "tierd --version printed '$version'"
log "tierd --version: $version"
# the engines' default seccomp profiles refuse move_pages to every container, whatever its
# capabilities: under podman's, topology says so and still shows the nodes; under the README's
# profile (podman's default with move_pages allowed to CAP_SYS_NICE) the probe runs
topology() { podman run --rm "${LIMITS[@]}" --cap-drop=ALL --cap-add=SYS_NICE "$@" "$IMAGE" topology > "$WORK/topology.txt" 2> "$WORK/podman.err" || { cat "$WORK/topology.txt" "$WORK/podman.err" >&2; fail "tierd topology failed in the image"; }; }
topology
grep -q '^move_pages: move_pages is forbidden' "$WORK/topology.txt" || { cat "$WORK/topology.txt" >&2; fail "the default profile allowed move_pages: the README's profile is not needed"; }
jq '.syscalls |= map(.names -= ["move_pages"]) | .syscalls += [{"names": ["move_pages"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_NICE"]}}]' \
  /usr/share/containers/seccomp.json > "$WORK/seccomp-tierd.json"
topology --security-opt "seccomp=$WORK/seccomp-tierd.json"
grep -q '^move_pages MPOL_MF_SW_YOUNG: ' "$WORK/topology.txt" || { cat "$WORK/topology.txt" >&2; fail "topology under the README's profile did not probe move_pages"; }
log "tierd topology: $(head -2 "$WORK/topology.txt" | tail -1 | tr -s ' '); $(grep '^move_pages' "$WORK/topology.txt")"

# the daemon on the simulated host, as the README's docker run line runs it (least privilege)
! curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" || { echo "port $PORT is in use on this host: stop what serves it" >&2; exit 2; }
podman run -d "${LIMITS[@]}" --name "$NAME" --network=host --cap-drop=ALL "$IMAGE" \
  run --sim config/demo-scenario.yaml --config config/demo.yaml --metrics-listen "127.0.0.1:$PORT" >/dev/null \
  || fail "podman run failed"
for _ in $(seq 60); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 1
done
curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null || { podman logs "$NAME" >&2 || true; fail "/healthz did not answer"; }
for _ in $(seq 60); do
  curl -fsS -o "$WORK/metrics.txt" "http://127.0.0.1:$PORT/metrics" && grep -q '^tierd_periods_total [1-9]' "$WORK/metrics.txt" && break
  sleep 1
done
curl -fsS "http://127.0.0.1:$PORT/metrics" > "$WORK/metrics.txt"
grep -q '^tierd_periods_total [1-9]' "$WORK/metrics.txt" || fail "no period in /metrics"
log "/metrics: $(grep -c '^tierd_' "$WORK/metrics.txt") samples, $(grep '^tierd_periods_total' "$WORK/metrics.txt")"
podman healthcheck run "$NAME" || fail "the image's HEALTHCHECK failed"
log "HEALTHCHECK passed"
t0=$SECONDS
podman stop -t 20 "$NAME" >/dev/null
code=$(podman inspect --format '{{.State.ExitCode}}' "$NAME")
[ "$code" = 0 ] || { podman logs "$NAME" 2>&1 | tail -20 >&2; fail "exit code $code after SIGTERM"; }
log "stopped by SIGTERM in $((SECONDS - t0)) s, exit code 0"
echo "CONTAINER_OK"
