#!/usr/bin/env bash
# tests/container/build.sh -- build the luagate image with podman, without a
# registry, and try it: the base image is made with debootstrap (the Debian
# archive is reachable when a registry is not), then the Containerfile is
# built on it and the image is run as the sidecar would be (environment only,
# as its user luagate, queue on a volume), a sample event posted to a webhook
# target, /health asked, SIGTERM -> exit 0.  Prints "ok - ..." lines.
#
#   sudo bash tests/container/build.sh        # IMAGE=localhost/luagate:dev
#
# Podman inside a container without CAP_SYS_RESOURCE and with hybrid cgroups
# (this CI) needs runc, cgroupfs and ulimits no higher than the current ones:
# PODMAN_FLAGS and RUN_FLAGS below; on a normal host they are harmless.
set -u
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib.sh
IMAGE=${IMAGE:-localhost/luagate:dev}
BASE_IMAGE=${BASE_IMAGE:-localhost/debian:bookworm-slim}
ROOTFS=${ROOTFS:-/var/tmp/luagate-bookworm-rootfs}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
PODMAN_FLAGS=${PODMAN_FLAGS:-$(command -v runc >/dev/null && echo "--runtime runc") --cgroup-manager=cgroupfs}
NOFILE=$(ulimit -n); NPROC=4096
RUN_FLAGS=${RUN_FLAGS:---ulimit nofile=$NOFILE:$NOFILE --ulimit nproc=$NPROC:$NPROC}
EVENTS=${LUAGATE_EVENTS:-$PWD/examples/events/minio-webhook.jsonl}
PORT=$(port 19110); RXPORT=$(port 18590)
passed=0; failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
fail() { echo "not ok - $*"; failed=$((failed + 1)); }
pm() { podman $PODMAN_FLAGS "$@"; }

command -v podman >/dev/null || { fail "podman is not installed (apt-get install podman runc)"; exit 1; }

# 1. the base image: a registry if it answers, else debootstrap + podman import
if ! pm image exists "$BASE_IMAGE"; then
  if [ ! -x "$ROOTFS/bin/sh" ]; then
    command -v debootstrap >/dev/null || { fail "debootstrap is not installed"; exit 1; }
    debootstrap --variant=minbase bookworm "$ROOTFS" "$MIRROR" >/tmp/luagate-debootstrap.log 2>&1 ||
      { fail "debootstrap bookworm (see /tmp/luagate-debootstrap.log)"; exit 1; }
  fi
  tar -C "$ROOTFS" -c . | pm import - "$BASE_IMAGE" >/dev/null ||
    { fail "podman import of the debootstrap tree"; exit 1; }
fi
ok "base image $BASE_IMAGE"

# 2. the image, from the Containerfile
if pm build --format docker --network host $RUN_FLAGS --build-arg BASE="$BASE_IMAGE" -t "$IMAGE" -f Containerfile . \
     >/tmp/luagate-podman-build.log 2>&1; then
  ok "podman build -t $IMAGE ($(pm image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%d MB", $1/1e6}'))"
else
  fail "podman build (tail of /tmp/luagate-podman-build.log):"; tail -20 /tmp/luagate-podman-build.log | sed 's/^/# /'
  exit 1
fi
cfg=$(pm image inspect -f '{{.Config.User}} {{json .Config.Entrypoint}} {{json .Config.Volumes}}' "$IMAGE")
[[ "$cfg" == 'luagate ["luagate"] {"/var/lib/luagate":{}}' ]] && ok "user, entrypoint, volume: $cfg" ||
  fail "image config: $cfg"
out=$(pm run --rm $RUN_FLAGS "$IMAGE" --version 2>/dev/null)
[[ "$out" == "luagate "* ]] && ok "luagate --version runs in the image: every shared library found" ||
  fail "luagate --version in the image: $out"
out=$(pm run --rm $RUN_FLAGS --entrypoint sh "$IMAGE" -c 'id -un; ls /usr/share/luagate/lua/luagate/default.lua' 2>/dev/null)
[[ "$out" == "luagate"*"default.lua" ]] && ok "runs as luagate; lua/ in /usr/share/luagate/lua" ||
  fail "user / lua dir: $out"

# 3. run it as the sidecar: environment only, queue on a volume, a webhook target
RX=$(mktemp -d /tmp/luagate-crx.XXXXXX)
$PY tests/peers/webhook_rx.py "$RXPORT" "$RX/rx.jsonl" >/dev/null 2>&1 & rxpid=$!
vol=luagate-test-queue-$$
pm volume create "$vol" >/dev/null
# (podman without systemd logs that it cannot add healthcheck timers: harmless)
cleanup() { pm rm -f luagate-test >/dev/null 2>&1; pm volume rm -f "$vol" >/dev/null 2>&1; kill "$rxpid" 2>/dev/null; rm -rf "$RX"; }
trap cleanup EXIT
pm run -d --name luagate-test $RUN_FLAGS --network host -v "$vol:/var/lib/luagate" \
  -e LUAGATE_LISTEN="127.0.0.1:$PORT" \
  -e MINIO_NOTIFY_WEBHOOK_ENABLE_RX=on \
  -e MINIO_NOTIFY_WEBHOOK_ENDPOINT_RX="http://127.0.0.1:$RXPORT/minio/events" \
  "$IMAGE" >/dev/null 2>&1 || fail "podman run -d"
if wait_until 20 curl -fsS "http://127.0.0.1:$PORT/health"; then ok "/health answers 200 from the container"
else fail "/health did not answer"; pm logs luagate-test 2>&1 | tail -20 | sed 's/^/# /'; fi
pm healthcheck run luagate-test >/dev/null 2>&1 && ok "the image's HEALTHCHECK passes" ||
  fail "podman healthcheck run: $(pm healthcheck run luagate-test 2>&1 | head -1)"
code=$(head -1 "$EVENTS" | curl -s -o /dev/null -w '%{http_code}' --data-binary @- "http://127.0.0.1:$PORT/")
[ "$code" = 200 ] && ok "a sample event is acknowledged" || fail "POST answered $code"
wait_until 10 test -s "$RX/rx.jsonl" && ok "the webhook target received it" || fail "nothing delivered"
modes=$(pm exec luagate-test sh -c 'find /var/lib/luagate -mindepth 1 \( -type f ! -perm 0600 \) -o \( -type d ! -perm 0700 \)' 2>&1)
[ -z "$modes" ] && ok "queue files 0600, directories 0700 in the volume" || fail "queue modes: $modes"
pm stop -t 15 luagate-test >/dev/null 2>&1
rc=$(pm inspect -f '{{.State.ExitCode}}' luagate-test)
[ "$rc" = 0 ] && ok "podman stop (SIGTERM): exit status 0" || fail "exit status $rc after SIGTERM"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
