#!/usr/bin/env bash
# scripts/mosquitto.sh start|stop -- Mosquitto 2 on 127.0.0.1:$MQTT_PORT
# (anonymous) and on $MQTT_AUTH_PORT (password file: luagate / luagate-pw,
# for the bad-credentials test).  Data and logs under $BASE/mosquitto.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
MQTT_AUTH_PORT=${MQTT_AUTH_PORT:-$((MQTT_PORT + 1))}
D=$BASE/mosquitto

start() {
  need_free_port "$MQTT_PORT" || return 1
  need_free_port "$MQTT_AUTH_PORT" || return 1
  rm -rf "$D"; mkdir -p "$D"
  touch "$D/passwd" && mosquitto_passwd -b "$D/passwd" luagate luagate-pw || return 1
  # Started as root, mosquitto drops to user mosquitto unless told otherwise,
  # and then cannot write its root-owned directory (services.md 3.2).
  cat >"$D/mosquitto.conf" <<CONF
user root
per_listener_settings true
persistence false
log_dest file $D/mosquitto.log
listener $MQTT_PORT 127.0.0.1
allow_anonymous true
listener $MQTT_AUTH_PORT 127.0.0.1
allow_anonymous false
password_file $D/passwd
CONF
  mosquitto -c "$D/mosquitto.conf" >"$D/stdout.log" 2>&1 </dev/null &
  echo $! >"$D/pid"
  if ! wait_until 20 mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -t luagate/ready -m x -q 1; then
    echo "mosquitto did not become ready on port $MQTT_PORT" >&2
    tail -20 "$D/stdout.log" "$D/mosquitto.log" >&2 2>/dev/null
    stop_pid "$D/pid"
    return 1
  fi
}

case ${1:-} in
  start) start ;;
  stop) stop_pid "$D/pid" ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
