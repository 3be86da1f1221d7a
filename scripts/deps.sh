#!/usr/bin/env bash
# scripts/deps.sh -- install every Debian package luagate and its tests need.
# Idempotent: skips apt when everything is already installed.
set -eu
PKGS="build-essential pkg-config make git ca-certificates openssl curl
  lua5.4 liblua5.4-dev lua-busted lua-cjson
  libevent-dev libssl-dev libcjson-dev libjsmn-dev libhttp-parser-dev libcurl4-openssl-dev libexpat1-dev
  librdkafka-dev kcat librabbitmq-dev libpaho-mqtt-dev libnats-dev libhiredis-dev
  libpq-dev libmariadb-dev libhighwayhash-dev libpcre2-dev
  redis-server redis-tools mosquitto mosquitto-clients nats-server
  postgresql mariadb-server mariadb-client rabbitmq-server
  python3 python3-pika python3-paho-mqtt python3-redis python3-psycopg2 python3-pymysql
  python3-confluent-kafka python3-requests
  valgrind clang libclang-rt-14-dev wrk gnuplot-nox strace prometheus
  dpkg-dev debootstrap lintian iproute2"
missing=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' $PKGS 2>/dev/null | awk '$1 != "ii" {print $2}')
# dpkg-query prints nothing at all for packages it has never heard of.
for p in $PKGS; do dpkg-query -W "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -z "$(echo $missing)" ]; then echo "deps: all $(echo $PKGS | wc -w) packages installed"; exit 0; fi
SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $PKGS
