#!/usr/bin/env bash
# make install / make uninstall into a DESTDIR, and what an installed luagate
# offers: the binary finds its Lua modules at the installed location, and
# plain busted and lua5.4 find luagate.testing, luagate.json and
# luagate.queue with Lua's search paths pointed at DESTDIR/usr/local exactly
# as Debian's lua5.4 sets them for /usr/local.  Also: plain busted in the
# checkout works with no variable set (.busted).
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
T=$(mktemp -d /tmp/luagate-install.XXXXXX)
W=$(mktemp -d /tmp/luagate-install-work.XXXXXX)
trap 'rm -rf "$T" "$W"' EXIT
check() { local name=$1; shift; if "$@" >/dev/null 2>&1; then echo "ok - $name"; else echo "not ok - $name"; fi; }
P=$T/usr/local
# Lua's default paths for /usr/local, moved under $T, then Debian's own
# (busted and its modules); nothing of the checkout.
LPATH="$P/share/lua/5.4/?.lua;$P/share/lua/5.4/?/init.lua;$P/lib/lua/5.4/?.lua;/usr/share/lua/5.4/?.lua;/usr/share/lua/5.4/?/init.lua"
CPATH="$P/lib/lua/5.4/?.so;/usr/lib/x86_64-linux-gnu/lua/5.4/?.so;/usr/lib/lua/5.4/?.so"
inst() { env -u LUA_PATH -u LUA_CPATH -u LUAGATE_LUA_DIR LUA_PATH_5_4="$LPATH" LUA_CPATH_5_4="$CPATH" "$@"; }

make -s install DESTDIR="$T" PREFIX=/usr/local >"$W/install.log" 2>&1
check "make install DESTDIR PREFIX=/usr/local succeeds" [ $? = 0 ]
for f in bin/luagate lib/lua/5.4/luagate.so share/lua/5.4/luagate/testing.lua share/lua/5.4/luagate/default.lua \
         share/lua/5.4/luagate/rules.lua share/man/man1/luagate.1 lib/systemd/system/luagate.service \
         share/doc/luagate/luagate.conf.lua share/doc/luagate/examples/minio-webhook.jsonl; do
  check "installed: /usr/local/$f" [ -f "$P/$f" ]
done
check "the binary is executable and prints its version" sh -c "'$P/bin/luagate' --version | grep -q '^luagate '"
check "the unit starts the installed binary, restarts on failure, sandboxed" \
  grep -q "^ExecStart=/usr/local/bin/luagate " "$P/lib/systemd/system/luagate.service"
for k in Restart=on-failure DynamicUser=yes StateDirectory=luagate ProtectSystem=strict NoNewPrivileges=yes; do
  check "unit: $k" grep -qx "$k" "$P/lib/systemd/system/luagate.service"
done

# the installed binary routes with the installed lua/ (no lua/ near $W or the binary's ../../)
cat >"$W/gw.conf.lua" <<'CONF'
targets = { ["webhook:1"] = { endpoint = "http://127.0.0.1:9/" } }
CONF
out=$(cd "$W" && inst "$P/bin/luagate" -c gw.conf.lua check "$ROOT/examples/events/minio-webhook.jsonl" 2>&1)
check "installed luagate check routes the samples with the installed default router" \
  sh -c "printf '%s' \"\$1\" | grep -q 'webhook:1'" _ "$out"

# a routing script and its spec in a directory of their own: plain busted
cat >"$W/routes.lua" <<'LUA'
return function(event, send)
  if event.key:match("%.jpg$") then send("webhook:thumbs", { key = event.key, size = event.size }) end
end
LUA
mkdir -p "$W/spec"
cat >"$W/spec/routes_spec.lua" <<'LUA'
local testing = require "luagate.testing"
describe("routes", function()
  local gw = testing.load("routes.lua", { targets = { "webhook:thumbs" } })
  it("sends jpgs", function()
    local s = gw:feed(testing.event { key = "a b.jpg", size = 26 })
    assert.equal('{"key":"a b.jpg","size":26}', s[1].payload)
    assert.same({}, gw:feed(testing.event { key = "a.txt", size = 1 }))
  end)
end)
LUA
out=$(cd "$W" && inst busted --output=TAP 2>&1)
check "plain busted outside the checkout runs a spec that requires luagate.testing" \
  sh -c "printf '%s\n' \"\$1\" | grep -q '^ok 1 '" _ "$out"
[ -n "$(printf '%s\n' "$out" | grep '^ok 1 ')" ] || printf '%s\n' "$out" | head -20 | sed 's/^/#   /'
lua_in_w() { (cd "$W" && env -u LUA_PATH -u LUA_CPATH LUA_PATH_5_4="$1" LUA_CPATH_5_4="$2" lua5.4 -e "$3"); }
check "lua5.4 -e 'require \"luagate.queue\"' with the installed modules" \
  lua_in_w "$LPATH" "$CPATH" 'assert(require("luagate.queue").open)'
if lua_in_w '/nonexistent/?.lua' '/nonexistent/?.so' 'require "luagate.testing"' 2>/dev/null; then
  echo "not ok - without the installed paths luagate.testing is still found: the checks above prove nothing"
else
  echo "ok - without the installed paths luagate.testing is not found (the checks above are not vacuous)"
fi

make -s uninstall DESTDIR="$T" PREFIX=/usr/local >>"$W/install.log" 2>&1
left=$(find "$T" -type f -o -type l)
check "make uninstall leaves no file behind" [ -z "$left" ]
[ -z "$left" ] || echo "$left" | sed 's/^/#   left: /'

# the checkout itself: plain busted, no LUA_PATH/LUA_CPATH (.busted)
out=$(env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 busted --output=TAP examples 2>&1)
check "plain busted examples in the checkout passes with no variable set" \
  sh -c "printf '%s\n' \"\$1\" | grep -q '^1\.\.[1-9]' && ! printf '%s\n' \"\$1\" | grep -q '^not ok'" _ "$out"
exit 0
