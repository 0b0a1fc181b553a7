#!/usr/bin/env bash
# Builds a system-wide Debian package with dpkg-deb: `npm run deb` writes dist/deb/rclone-bisync-manager_<version>_all.deb
# and prints its path. Architecture all: the bundles need no node_modules (the optional sd-notify addon is left out,
# readiness is Type=dbus). Node.js >= 20.19 is not a Depends (Debian 12 packages 18): the program checks it at start.
#
#   npm run deb                     build (if dist/ is stale) and package
#   OUTDIR=dir npm run deb          write the .deb into dir instead (DEB_MAINTAINER='Name <address>' for the Maintainer)
set -euo pipefail

if [ "${1:-}" = --help ] || [ "${1:-}" = -h ]; then
  sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
[ $# -eq 0 ] || { echo "error: unexpected argument '$1' (see --help)" >&2; exit 2; }

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
APP=rclone-bisync-manager
say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
command -v dpkg-deb >/dev/null || die "dpkg-deb is not installed (apt-get install dpkg)"

cd "$PROJECT_DIR"
if [ ! -f dist/bundle/daemon.js ] || [ -n "$(find src scripts/bundle.mjs package.json -newer dist/bundle/daemon.js -print -quit 2>/dev/null)" ]; then
  say "building"
  npm run --silent build
fi

VERSION="$(node -p "require('./package.json').version")"
DEB_VERSION="$VERSION-1"
MIN_NODE="$(node -p "/(\d+\.\d+)/.exec(require('./package.json').engines.node)[1]")"
# Reproducible: the dates come from the last commit when there is one (SOURCE_DATE_EPOCH wins).
EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$PROJECT_DIR" log -1 --format=%ct 2>/dev/null || date +%s)}"
OUTDIR="${OUTDIR:-$PROJECT_DIR/dist/deb}"
# Packagers set their own name and address.
MAINTAINER="${DEB_MAINTAINER:-rclone-bisync-manager contributors <rbmanager@users.noreply.github.com>}"
mkdir -p "$OUTDIR"
OUTDIR="$(cd "$OUTDIR" && pwd)"

root="$(mktemp -d "${TMPDIR:-/tmp}/$APP-deb.XXXXXX")"
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root" # mktemp made it private; it becomes the package's /
umask 022

LIB=/usr/lib/$APP
DOC=/usr/share/doc/$APP
dirs=(/DEBIAN /usr/bin "$LIB/bin" "$LIB/dist/bundle" "$LIB/completions" /usr/lib/systemd/user /usr/share/dbus-1/services
  /usr/share/dbus-1/interfaces /usr/share/man/man1 /usr/share/man/man5 /usr/share/bash-completion/completions
  /usr/share/zsh/vendor-completions /usr/share/fish/vendor_completions.d "$DOC/examples")
for d in "${dirs[@]}"; do install -d -m 0755 "$root$d"; done

# ---- the application: the bundles and what they read at run time, nothing else (no node_modules, no source maps) --
install -m 0644 bin/require-node.js "$root$LIB/bin/"
install -m 0755 bin/rbmctl.js bin/rclone-bisync-manager.js "$root$LIB/bin/"
for f in dist/bundle/*.js; do
  # The bundles name a .map next to them; the maps (~3 MB) stay out of the package.
  sed '/^\/\/# sourceMappingURL=/d' "$f" >"$root$LIB/dist/bundle/$(basename "$f")"
done
chmod 0644 "$root$LIB"/dist/bundle/*.js
# package.json gives the version and the Node.js requirement; trimmed to the fields read at run time.
node -e "const p=require('./package.json'); process.stdout.write(JSON.stringify({name:p.name,version:p.version,description:p.description,license:p.license,type:p.type,engines:p.engines},null,2)+'\n')" \
  >"$root$LIB/package.json"
install -m 0644 completions/* "$root$LIB/completions/"

# ---- executables: run $RBM_NODE or the first node on PATH; bin/require-node.js checks the version ----------------
for cmd in rclone-bisync-manager rbmctl; do
  cat >"$root/usr/bin/$cmd" <<EOF
#!/bin/sh
# $cmd from the Debian package. Node.js >= $MIN_NODE is not packaged by Debian 12: this runs \$RBM_NODE, else the
# first node on PATH, and the program stops with a message when that Node.js is too old.
node="\${RBM_NODE:-node}"
if ! command -v "\$node" >/dev/null 2>&1; then
  echo "$cmd: Node.js >= $MIN_NODE is needed and '\$node' was not found; install it, or set RBM_NODE=/path/to/node" >&2
  exit 69
fi
exec "\$node" $LIB/bin/$cmd.js "\$@"
EOF
  chmod 0755 "$root/usr/bin/$cmd"
done

# ---- systemd, D-Bus, manuals, completions --------------------------------------------------------------------------
sed -e "s|%h/\.local/bin/|/usr/bin/|g" "systemd/$APP.service" >"$root/usr/lib/systemd/user/$APP.service"
for f in dbus/*.service; do sed -e "s|@bindir@|/usr/bin|g" "$f" >"$root/usr/share/dbus-1/services/$(basename "$f")"; done
install -m 0644 dbus/*.xml "$root/usr/share/dbus-1/interfaces/"
for page in man/*.[1-9]; do gzip -9n <"$page" >"$root/usr/share/man/man${page##*.}/$(basename "$page").gz"; done
install -m 0644 completions/rbmctl.bash "$root/usr/share/bash-completion/completions/rbmctl"
install -m 0644 completions/_rbmctl "$root/usr/share/zsh/vendor-completions/_rbmctl"
install -m 0644 completions/rbmctl.fish "$root/usr/share/fish/vendor_completions.d/rbmctl.fish"
chmod 0644 "$root"/usr/lib/systemd/user/* "$root"/usr/share/dbus-1/services/*

# ---- documentation: copyright, changelogs, the annotated example config ----------------------------------------------
year="$(date -u -d "@$EPOCH" +%Y)"
{
  echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
  echo "Upstream-Name: $APP"
  echo
  echo "Files: *"
  echo "Copyright: $year rclone-bisync-manager contributors"
  echo "License: Expat"
  echo
  echo "Files: usr/lib/$APP/dist/bundle/*"
  echo "Copyright: rclone-bisync-manager contributors and the authors of the bundled npm packages"
  echo "Comment: the bundles include @jellybrick/dbus-next, ajv, croner, fast-xml-parser, winston, yaml, yargs and their"
  echo " dependencies, all under the MIT (Expat), ISC, BSD-2-Clause or Apache-2.0 licenses."
  echo "License: Expat"
  echo
  echo "License: Expat"
  sed -e 's/^$/./' -e 's/^/ /' LICENSE
} >"$root$DOC/copyright"
gzip -9n <CHANGELOG.md >"$root$DOC/changelog.gz"
{
  echo "$APP ($DEB_VERSION) unstable; urgency=medium"
  echo
  echo "  * Package of upstream version $VERSION (see changelog.gz)."
  echo
  echo " -- $MAINTAINER  $(LC_ALL=C date -u -R -d "@$EPOCH")"
} | gzip -9n >"$root$DOC/changelog.Debian.gz"
gzip -9n <examples/config.yaml >"$root$DOC/examples/config.yaml.gz"
chmod 0644 "$root$DOC"/*.gz "$root$DOC"/copyright "$root$DOC"/examples/*

# ---- control -----------------------------------------------------------------------------------------------------------
installed_kb="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
cat >"$root/DEBIAN/control" <<EOF
Package: $APP
Version: $DEB_VERSION
Architecture: all
Maintainer: $MAINTAINER
Installed-Size: $installed_kb
Depends: rclone, default-dbus-session-bus | dbus-session-bus
Recommends: nodejs (>= $MIN_NODE)
Section: net
Priority: optional
Description: two-way folder sync with rclone bisync, as a user service
 Runs rclone bisync jobs on cron schedules as a systemd user service,
 controlled over the session D-Bus and with the rbmctl command. A run
 deletes or overwrites only within the safety limits, or what the user
 approved.
 .
 Needs Node.js $MIN_NODE or later, which Debian 12 does not package: install it
 from elsewhere (the program says so at start when the node on PATH is
 older).
EOF
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"
find "$root" -exec touch -h -d "@$EPOCH" {} +

deb="$OUTDIR/${APP}_${DEB_VERSION}_all.deb"
SOURCE_DATE_EPOCH="$EPOCH" dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
say "built $deb ($installed_kb KB installed)"
echo "$deb"
