#!/usr/bin/env bash
# dist/deb.sh VERSION BUILD_DIR -- a Debian binary package of luagate from
# `make install PREFIX=/usr` into a staging tree, with the systemd unit in
# /lib/systemd/system, the configuration as a conffile in /etc/luagate, and
# Depends computed by dpkg-shlibdeps from the binary and luagate.so (runtime
# libraries only).  Writes build/luagate_VERSION_ARCH.deb.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=$1 OUT=$2
ARCH=$(dpkg --print-architecture)
WORK=build/deb
STAGE=$WORK/luagate
rm -rf "$WORK"; mkdir -p "$STAGE/DEBIAN"
make -s install DESTDIR="$PWD/$STAGE" PREFIX=/usr SYSTEMDUNITDIR=/lib/systemd/system OUT="$OUT" >/dev/null
install -D -m 0644 dist/luagate.conf.lua "$STAGE/etc/luagate/luagate.conf.lua"
# Debian policy: stripped objects, compressed man pages and changelog, copyright
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
  "$STAGE/usr/bin/luagate" "$STAGE"/usr/lib/*/lua/5.4/luagate.so
gzip -9n "$STAGE/usr/share/man/man1/luagate.1"
DOC=$STAGE/usr/share/doc/luagate
install -m 0644 dist/deb/copyright "$DOC/copyright"
{
  printf 'luagate (%s) unstable; urgency=medium\n\n' "$VERSION"
  printf '  * Built from git %s.\n\n' "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  printf ' -- luagate developers <maintainers@luagate.invalid>  %s\n' \
    "$(date -R -d "@$(git log -1 --format=%ct 2>/dev/null || date +%s)")"
} | gzip -9n >"$DOC/changelog.gz"
gzip -9n "$DOC/README.md"
# runtime dependencies of the ELF files, as dpkg-shlibdeps computes them
mkdir -p "$WORK/debian"
printf 'Source: luagate\n\nPackage: luagate\nArchitecture: any\n' >"$WORK/debian/control"
deps=$(cd "$WORK" && dpkg-shlibdeps -O -eluagate/usr/bin/luagate luagate/usr/lib/*/lua/5.4/luagate.so \
         | sed -n 's/^shlibs:Depends=//p')
[ -n "$deps" ] || { echo "deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
size=$(du -k -s --exclude=DEBIAN "$STAGE" | cut -f1)
sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$ARCH|" -e "s|@SIZE@|$size|" -e "s|@DEPENDS@|$deps|" \
  dist/deb/control.in >"$STAGE/DEBIAN/control"
install -m 0644 dist/deb/conffiles "$STAGE/DEBIAN/conffiles"
(cd "$STAGE" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | LC_ALL=C sort | xargs md5sum) \
  >"$STAGE/DEBIAN/md5sums"
deb=build/luagate_${VERSION}_${ARCH}.deb
dpkg-deb --root-owner-group --build "$STAGE" "$deb" >/dev/null
echo "$deb"
