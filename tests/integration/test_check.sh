#!/usr/bin/env bash
# `luagate check` prints, per event, what each target would receive; its
# output is compared with golden files (regenerate: UPDATE_GOLDEN=1).
cd "$(dirname "$0")/../.." || exit 1
LUAGATE_BIN=${LUAGATE_BIN:-$PWD/build/release/luagate}
G=tests/golden
golden() { # golden NAME EXPECTED_RC ARGS...
  local name=$1 want=$2; shift 2
  local out; out=$("$LUAGATE_BIN" "$@" 2>&1); local rc=$?
  if [ -n "${UPDATE_GOLDEN:-}" ]; then printf '%s\n' "$out" >"$G/$name.out"; fi
  if [ "$rc" = "$want" ] && [ "$out" = "$(cat "$G/$name.out")" ]; then
    echo "ok - check $name (exit $rc, output as in $G/$name.out)"
  else
    echo "not ok - check $name: exit $rc (want $want), output differs from $G/$name.out:"
    diff <(printf '%s\n' "$out") "$G/$name.out" | head -20 | sed 's/^/#   /'
  fi
}
golden default 0 check -c $G/default.conf.lua $G/events.jsonl
golden thumbnails 0 check -c examples/thumbnails/luagate.conf.lua examples/thumbnails/routes.lua $G/events.jsonl
golden script-error 1 check -c $G/default.conf.lua $G/broken.lua $G/events.jsonl
printf 'return function(event, send)\n  send("webhook:all", event\nend\n' >/tmp/luagate-check-syntax.lua
golden syntax-error 2 check -c $G/default.conf.lua /tmp/luagate-check-syntax.lua
rm -f /tmp/luagate-check-syntax.lua
golden bad-config 2 check -c $G/broken.lua

# `check -` reads the events from standard input, as from a file
want=$("$LUAGATE_BIN" check -c $G/default.conf.lua $G/broken.lua $G/events.jsonl 2>&1 | sed "s|^$G/events.jsonl:|stdin:|")
got=$("$LUAGATE_BIN" check -c $G/default.conf.lua $G/broken.lua - <$G/events.jsonl 2>&1)
if [ "$got" = "$want" ]; then echo "ok - check - reads the events from standard input"
else echo "not ok - check - differs from check FILE:"; diff <(echo "$want") <(echo "$got") | head | sed 's/^/#   /'; fi

# a webhook has no key or op: check prints neither for it (redis has both)
out=$("$LUAGATE_BIN" check -c $G/default.conf.lua - <$G/events.jsonl 2>&1)
if grep -q '^  -> webhook:all$' <<<"$out" && ! grep -q 'webhook:all .*op=' <<<"$out" &&
   grep -q '^  -> redis:idx key="logs/photo.jpg" op=upsert$' <<<"$out"; then
  echo "ok - check prints key and op only for the kinds that use them"
else echo "not ok - check prints key/op where they mean nothing:"; grep -- '->' <<<"$out" | head -4 | sed 's/^/#   /'; fi

# sends made before a script error are dropped with the event (it goes to _script)
tmp=$(mktemp -d /tmp/luagate-check.XXXXXX)
printf 'return function(event, send)
  send("webhook:all", "first")
  error("late failure")
end
' >"$tmp/late.lua"
out=$(head -1 $G/events.jsonl | "$LUAGATE_BIN" check -c $G/default.conf.lua "$tmp/late.lua" - 2>&1); rc=$?
if [ $rc = 1 ] && grep -q 'script error: .*late.lua:3: late failure' <<<"$out" &&
   grep -q '^  -> dead-letter queue _script (sends made before the error are dropped)$' <<<"$out" &&
   ! grep -q 'first' <<<"$out"; then
  echo "ok - check shows a failed event's earlier sends as dropped, the event dead-lettered"
else echo "not ok - check on a script failing after a send (exit $rc):"; sed 's/^/#   /' <<<"$out" | tail -4; fi

# send(old_event): an event kept from an earlier route() call is refused, by name
printf 'local kept
return function(event, send)
  if kept then send("webhook:all", kept) end
  kept = event
end
' >"$tmp/old.lua"
out=$(head -2 $G/events.jsonl | "$LUAGATE_BIN" check -c $G/default.conf.lua "$tmp/old.lua" - 2>&1); rc=$?
if [ $rc = 1 ] && grep -q 'script error: .*old.lua:3: send: this event belongs to an earlier route() call' <<<"$out"; then
  echo "ok - send(old_event) raises an error naming the problem"
else echo "not ok - send(old_event) (exit $rc):"; sed 's/^/#   /' <<<"$out" | tail -4; fi
rm -rf "$tmp"

# --help-target shows enable's real default: a target declared in the file is on
if "$LUAGATE_BIN" --help-target webhook | grep -Eq '^  enable +bool +on +on for a target declared in the file'; then
  echo "ok - --help-target shows enable on by default"
else echo "not ok - --help-target enable: $("$LUAGATE_BIN" --help-target webhook | grep '^  enable')"; fi
# a bucket rule's prefix/suffix is printed quoted as Go's %q: a newline or ESC in
# it can neither forge a line of check's output nor reach the terminal raw
tmp=$(mktemp -d)
printf '%s\n' 'targets = { ["file:a"] = { path = "/dev/null" } }' \
  'buckets = { images = { { arn = "file:a", events = { "put" },' \
  '  prefix = "a\nbucket rules: 0 FORGED\27[2K\"\\", suffix = "\t.jpg\194\155é" } } }' >"$tmp/ctl.lua"
"$LUAGATE_BIN" check -c "$tmp/ctl.lua" >"$tmp/ctl.out" 2>&1; rc=$?
if [ $rc = 0 ] && ! grep -q '^bucket rules: 0 FORGED' "$tmp/ctl.out" && ! grep -q $'\x1b' "$tmp/ctl.out" &&
   grep -qF 'prefix "a\nbucket rules: 0 FORGED\x1b[2K\"\\"  suffix "\t.jpg\u009bé"' "$tmp/ctl.out"; then
  echo "ok - check prints a bucket rule's prefix and suffix escaped (newline, ESC, C1 CSI, quote)"
else echo "not ok - check prints a bucket rule's prefix and suffix escaped (exit $rc):"; sed 's/^/#   /' "$tmp/ctl.out" | cat -v | tail -4; fi
rm -rf "$tmp"
exit 0
