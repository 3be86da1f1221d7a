#!/usr/bin/env bash
# tests/package/test_deb.sh -- `make deb`, then the package in a clean root:
# a debootstrap'd Debian (minbase, no -dev package, no luagate) where
# `apt-get install ./luagate_*.deb` pulls in only runtime libraries, the
# installed luagate runs, plain busted and lua5.4 find its modules, and
# `apt-get purge` removes every file it installed.  lintian reports no error.
# Needs root (chroot) and Debian's archive.  The base tree is cached in
# LUAGATE_PKGROOT (debootstrap takes minutes; a copy of it, seconds).
cd "$(dirname "$0")/../.." || exit 1
CACHE=${LUAGATE_PKGROOT:-/var/tmp/luagate-pkgroot-cache}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
OUT=${LUAGATE_BUILD:-build/release}
check() { local name=$1; shift; if "$@" >/dev/null 2>&1; then echo "ok - $name"; else echo "not ok - $name"; fi; }
die() { echo "not ok - $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "the package test needs root (chroot, dpkg in a clean root)"

deb=$(make -s deb OUT="$OUT" 2>/tmp/luagate-deb.log | tail -1)
[ -f "$deb" ] || { sed 's/^/#   /' /tmp/luagate-deb.log | tail -20; die "make deb produced no package"; }
echo "ok - make deb: $deb ($(du -k "$deb" | cut -f1) KiB)"
lint=$(lintian --tag-display-limit 0 "$deb" 2>&1 | grep -v 'running with root privileges')
errors=$(printf '%s\n' "$lint" | grep -c '^E:')
check "lintian reports no error" [ "$errors" = 0 ]
[ "$errors" = 0 ] || printf '%s\n' "$lint" | sed 's/^/#   /'

if [ ! -x "$CACHE/bin/sh" ]; then
  command -v debootstrap >/dev/null || die "debootstrap is not installed (scripts/deps.sh)"
  rm -rf "$CACHE.tmp"
  debootstrap --variant=minbase bookworm "$CACHE.tmp" "$MIRROR" >/tmp/luagate-debootstrap.log 2>&1 ||
    die "debootstrap bookworm into $CACHE (see /tmp/luagate-debootstrap.log)"
  mv "$CACHE.tmp" "$CACHE"
fi
R=$(mktemp -d /var/tmp/luagate-pkgroot.XXXXXX)
cleanup() { umount "$R/proc" 2>/dev/null; rm -rf "$R"; }
trap cleanup EXIT
cp -a "$CACHE/." "$R/" || die "copy of the clean root"
cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null
mount -t proc proc "$R/proc" || die "mount /proc in the clean root"
in_root() { chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root DEBIAN_FRONTEND=noninteractive "$@"; }
check "the clean root has no luagate and no -dev package" \
  sh -c "! chroot '$R' dpkg -l | awk '\$1==\"ii\"{print \$2}' | grep -qE '(-dev(:|\$)|^luagate\$)'"

cp "$deb" "$R/tmp/"
in_root apt-get update -q >/tmp/luagate-deb-apt.log 2>&1 || die "apt-get update in the clean root"
in_root apt-get install -y "/tmp/$(basename "$deb")" >>/tmp/luagate-deb-apt.log 2>&1
check "apt-get install ./$(basename "$deb") in the clean root" [ $? = 0 ]
dev=$(chroot "$R" dpkg -l | awk '$1=="ii"{print $2}' | grep -E -- '-dev(:|$)')
check "it pulled in runtime libraries only (no -dev package)" [ -z "$dev" ]
[ -z "$dev" ] || echo "# -dev packages installed: $dev"
# busted is the developer's choice (Suggests); Debian's lua-busted brings a -dev package of its own
in_root apt-get install -y lua-busted >>/tmp/luagate-deb-apt.log 2>&1 || die "apt-get install lua-busted"
check "luagate --version runs in the clean root" sh -c "chroot '$R' luagate --version | grep -q '^luagate '"
check "the systemd unit is in /lib/systemd/system" [ -f "$R/lib/systemd/system/luagate.service" ]
check "the configuration is a conffile" grep -qx /etc/luagate/luagate.conf.lua "$R/var/lib/dpkg/info/luagate.conffiles"

cp examples/events/minio-webhook.jsonl "$R/tmp/events.jsonl"
check "luagate check routes the samples with the packaged configuration and default router" \
  sh -c "chroot '$R' luagate -c /etc/luagate/luagate.conf.lua check /tmp/events.jsonl | grep -q 'file:stdout'"
mkdir -p "$R/tmp/routes/spec"
cat >"$R/tmp/routes/routes.lua" <<'LUA'
return function(event, send)
  if event.name:find("^s3:ObjectRemoved:") then send("redis:audit", event) end
end
LUA
cat >"$R/tmp/routes/spec/routes_spec.lua" <<'LUA'
local testing = require "luagate.testing"
describe("routes", function()
  local gw = testing.load("routes.lua", { targets = { "redis:audit" } })
  it("audits deletes only", function()
    assert.equal(1, #gw:feed(testing.event { name = "s3:ObjectRemoved:Delete", key = "a" }))
    assert.equal(0, #gw:feed(testing.event { key = "b", size = 1 }))
  end)
end)
LUA
out=$(chroot "$R" sh -c 'cd /tmp/routes && busted --output=TAP' 2>&1)
check "plain busted in the clean root runs a spec that requires luagate.testing" \
  sh -c "printf '%s\n' \"\$1\" | grep -q '^ok 1 '" _ "$out"
printf '%s\n' "$out" | grep -q '^ok 1 ' || printf '%s\n' "$out" | head -20 | sed 's/^/#   /'
check "lua5.4 -e 'require \"luagate.queue\"' in the clean root" \
  chroot "$R" lua5.4 -e 'assert(require("luagate.queue").open)'

files=$(chroot "$R" dpkg -L luagate | while read -r f; do [ -f "$R$f" ] && echo "$f"; done)
in_root apt-get purge -y luagate >>/tmp/luagate-deb-apt.log 2>&1
check "apt-get purge luagate" [ $? = 0 ]
left=$(for f in $files; do [ -e "$R$f" ] && echo "$f"; done)
check "purging removes every file the package installed, the conffile too" \
  sh -c "[ -z '$left' ] && [ ! -e '$R/etc/luagate/luagate.conf.lua' ] && ! chroot '$R' dpkg -s luagate"
[ -z "$left" ] || echo "$left" | sed 's/^/#   left: /'
exit 0
