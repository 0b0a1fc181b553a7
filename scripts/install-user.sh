#!/usr/bin/env bash
# Installs rclone-bisync-manager for the current user (default) or system-wide for packagers, and records every file
# it adds in a manifest so uninstall-user.sh removes exactly those. Idempotent; needs no network when node_modules exists.
#
#   npm run install-user                      per user: ~/.local/bin, ~/.local/share/systemd/user, ~/.local/share/dbus-1
#   PREFIX=/usr DESTDIR=pkg npm run install-user     packagers: /usr/bin, /usr/lib/systemd/user, /usr/share/dbus-1
#
# Environment: PREFIX, DESTDIR, NODE (the node binary the wrappers run; default: node on PATH), XDG_CONFIG_HOME,
# XDG_DATA_HOME, UNITDIR, DBUSDIR.
set -euo pipefail

if [ "${1:-}" = --help ] || [ "${1:-}" = -h ]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
[ $# -eq 0 ] || { echo "error: unexpected argument '$1' (see --help)" >&2; exit 2; }

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$PROJECT_DIR/scripts/install-paths.sh"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

NODE="${NODE:-$(command -v node || true)}"
[ -n "$NODE" ] && [ -x "$NODE" ] || die "node is not on PATH (install Node.js >= 20, or set NODE=/path/to/node)"
case "$NODE" in /*) ;; *) NODE="$(cd "$(dirname "$NODE")" && pwd)/$(basename "$NODE")" ;; esac
"$NODE" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
  || die "$NODE is Node.js $("$NODE" --version); rclone-bisync-manager needs Node.js >= 20"

for p in "$PREFIX" "$NODE" "$UNITDIR" "$DBUSDIR" "$HOME"; do
  case "$p" in *[[:space:]%\'\"\\\|\&]*) die "paths with spaces, quotes, backslashes, '|', '&' or '%' are not supported: '$p'" ;; esac
done
# A staging root that does not exist yet is created, as `make install DESTDIR=...` does.
if [ -n "$DESTDIR" ] && [ ! -d "$DESTDIR" ]; then
  [ ! -e "$DESTDIR" ] || die "DESTDIR=$DESTDIR exists and is not a directory"
  mkdir -p "$DESTDIR" || die "cannot create DESTDIR=$DESTDIR"
  say "created DESTDIR $DESTDIR"
fi

# ---- build -----------------------------------------------------------------------------------------------------
cd "$PROJECT_DIR"
entry=dist/bundle/daemon.js
needs_build=no
if [ ! -f "$entry" ]; then
  needs_build=yes
elif [ -d src ] && [ -n "$(find src scripts/bundle.mjs package.json tsconfig.json tsconfig.build.json -newer "$entry" -print -quit 2>/dev/null)" ]; then
  needs_build=yes
fi
if [ "$needs_build" = yes ]; then
  [ -d src ] || die "$PROJECT_DIR has neither a built dist/ nor the sources to build it"
  if [ ! -x node_modules/.bin/tsc ]; then
    say "installing the build dependencies (npm ci; needs network)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
  say "building"
  PATH="$(dirname "$NODE"):$PATH" npm run --silent build
fi

# ---- bookkeeping: every path installed, and every directory created ---------------------------------------------
NEW_ENTRIES=()
OLD_MANIFEST=()
if [ -f "$DESTDIR$MANIFEST" ]; then mapfile -t OLD_MANIFEST < <(grep -v '^#' "$DESTDIR$MANIFEST" || true); fi
record() { NEW_ENTRIES+=("$1 $2"); }
# Directories an earlier run created stay recorded (they exist now, but uninstall should still remove them when empty).
for line in "${OLD_MANIFEST[@]}"; do [ "${line%% *}" = dir ] && record dir "${line#* }"; done

# Base directories that are never ours to remove, even when the install had to create them.
SHARED_DIRS=" / $HOME $HOME/.local $HOME/.local/share $HOME/.config ${XDG_CONFIG_HOME:-} ${XDG_DATA_HOME:-} $PREFIX "

# mkdir -p that records each directory it creates, outermost first.
make_dir() {
  local dir="$1" mode="${2:-0755}" missing=() d
  d="$dir"
  while [ ! -d "$DESTDIR$d" ]; do
    # dirname / is /: without this a missing root would loop forever.
    [ "$d" != / ] && [ "$d" != . ] || die "cannot create $DESTDIR$dir: $DESTDIR/ is not a directory"
    missing=("$d" "${missing[@]}"); d="$(dirname "$d")"
  done
  for d in "${missing[@]}"; do
    install -d -m "$mode" "$DESTDIR$d"
    case "$SHARED_DIRS" in *" $d "*) ;; *) record dir "$d" ;; esac
  done
}

# Substitutes the install paths into a template; the repository file is never edited.
render() { # render SRC DEST MODE
  local unit_bindir="$BINDIR"
  # In a unit, a directory in the home is written with %h so the file stays valid if the home moves.
  case "$BINDIR/" in "$HOME"/*) [ "$INSTALL_MODE" = user ] && unit_bindir="%h/${BINDIR#"$HOME"/}" ;; esac
  local tmp
  tmp="$(mktemp "$DESTDIR$(dirname "$2")/.rbm-install.XXXXXX")"
  if [[ "$2" == *.service && "$(dirname "$2")" == "$UNITDIR" ]]; then
    sed -e "s|%h/\.local/bin/|$unit_bindir/|g" -e "s|@bindir@|$unit_bindir|g" -e "s|@libdir@|$LIBDIR|g" -e "s|@node@|$NODE|g" "$1" >"$tmp"
  else
    sed -e "s|%h/\.local/bin/|$BINDIR/|g" -e "s|@bindir@|$BINDIR|g" -e "s|@libdir@|$LIBDIR|g" -e "s|@node@|$NODE|g" "$1" >"$tmp"
  fi
  chmod "$3" "$tmp"
  mv -f "$tmp" "$DESTDIR$2"
  record file "$2"
}

# An older install put the unit in the user's own unit directory, and `systemctl --user enable` linked it
# from there: the old file goes with the old manifest below, so the links follow the unit to its new place.
relink_enablement() { # relink_enablement NEW_UNIT_PATH
  local link target
  for link in "$DESTDIR$USER_CONFIG_UNITDIR"/*.wants/"$UNIT_NAME" "$DESTDIR$USER_CONFIG_UNITDIR"/*.requires/"$UNIT_NAME"; do
    [ -L "$link" ] || continue
    target="$(readlink "$link")"
    [ "$target" = "$1" ] && continue
    manifest_lists_file "$target" || continue # a link the user made to a unit of their own stays theirs
    ln -sfn "$1" "$link"
    say "kept $APP enabled: ${link#"$DESTDIR"} now points to $1"
  done
}
manifest_lists_file() { printf '%s\n' "${OLD_MANIFEST[@]}" | grep -qxF "file $1"; }

# ---- the application -------------------------------------------------------------------------------------------
say "installing the application into $DESTDIR$LIBDIR"
make_dir "$(dirname "$LIBDIR")"
stage="$(mktemp -d "$DESTDIR$(dirname "$LIBDIR")/.$APP.new.XXXXXX")"
trap 'rm -rf "$stage" "${old:-}"' EXIT
cp -R bin dist package.json "$stage/"
[ -f package-lock.json ] && cp package-lock.json "$stage/"
for extra in dbus systemd examples LICENSE README.md; do [ -e "$extra" ] && cp -R "$extra" "$stage/"; done
rm -rf "$stage/dist/test" "$stage/dist/bench" "$stage/dist/src" "$stage/dist/scripts"
if [ -d node_modules ] && [ -f package-lock.json ]; then
  "$NODE" scripts/copy-prod-modules.mjs "$PROJECT_DIR" "$stage/node_modules" >/dev/null
else
  say "node_modules is missing: fetching the production dependencies (npm ci --omit=dev; needs network)"
  # --ignore-scripts: the stage has no scripts/ (the project's prepare hook builds dist/, which the stage already has).
  (cd "$stage" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
chmod -R u=rwX,go=rX "$stage"
# Swap in the new tree in one rename, so a running service never sees a half-copied application.
if [ -d "$DESTDIR$LIBDIR" ]; then
  old="$(mktemp -d "$DESTDIR$(dirname "$LIBDIR")/.$APP.old.XXXXXX")"
  mv "$DESTDIR$LIBDIR" "$old/app"
fi
mv "$stage" "$DESTDIR$LIBDIR"
record tree "$LIBDIR"

# ---- executables -------------------------------------------------------------------------------------------------
make_dir "$BINDIR"
for cmd in rclone-bisync-manager rbmctl; do
  tmp="$(mktemp "$DESTDIR$BINDIR/.rbm-install.XXXXXX")"
  printf '#!/bin/sh\n# Installed by rclone-bisync-manager (scripts/install-user.sh).\nexec %s %s "$@"\n' \
    "'$NODE'" "'$LIBDIR/bin/$cmd.js'" >"$tmp"
  chmod 0755 "$tmp"
  mv -f "$tmp" "$DESTDIR$BINDIR/$cmd"
  record file "$BINDIR/$cmd"
done

# ---- systemd unit and D-Bus files --------------------------------------------------------------------------------
make_dir "$UNITDIR"
[ -f "systemd/$UNIT_NAME" ] || die "systemd/$UNIT_NAME is missing from $PROJECT_DIR"
render "systemd/$UNIT_NAME" "$UNITDIR/$UNIT_NAME" 0644
if [ "$INSTALL_MODE" = user ]; then relink_enablement "$UNITDIR/$UNIT_NAME"; fi

shopt -s nullglob
activation_files=(dbus/*.service)
interface_files=(dbus/*.xml)
shopt -u nullglob
if [ ${#activation_files[@]} -gt 0 ]; then
  make_dir "$DBUSDIR/services"
  for f in "${activation_files[@]}"; do render "$f" "$DBUSDIR/services/$(basename "$f")" 0644; done
fi
if [ ${#interface_files[@]} -gt 0 ]; then
  make_dir "$DBUSDIR/interfaces"
  for f in "${interface_files[@]}"; do
    install -m 0644 "$f" "$DESTDIR$DBUSDIR/interfaces/$(basename "$f")"
    record file "$DBUSDIR/interfaces/$(basename "$f")"
  done
fi

# ---- manifest ----------------------------------------------------------------------------------------------------
# Files an older version installed and this one does not are removed now.
for line in "${OLD_MANIFEST[@]}"; do
  [ "${line%% *}" = file ] || continue
  path="${line#* }"
  printf '%s\n' "${NEW_ENTRIES[@]}" | grep -qxF "file $path" || rm -f "$DESTDIR$path"
done
{
  echo "# rclone-bisync-manager install manifest: what scripts/uninstall-user.sh removes. One '<kind> <path>' per line:"
  echo "# tree = a directory owned wholly by the app, file = a file, dir = a directory the install created (removed when empty)."
  printf '%s\n' "${NEW_ENTRIES[@]}" | LC_ALL=C sort -u
} >"$DESTDIR$MANIFEST"

# ---- the user's config (per-user installs only; never overwritten, never removed) ----------------------------------
config_note=""
if [ "$INSTALL_MODE" = user ] && [ -z "$DESTDIR" ]; then
  # The starter is the annotated example, in which every job is off: nothing syncs until the user turns a job on.
  check_and_apply="check it with:   rbmctl check-config
  then apply it:   systemctl --user reload $APP   (when the service runs; it reads the file when it starts)"
  if [ -e "$CONFIG_DIR/config.yaml" ]; then
    config_note="kept your config: $CONFIG_DIR/config.yaml
  $check_and_apply"
  elif [ -f examples/config.yaml ]; then
    install -d -m 0700 "$CONFIG_DIR"
    install -m 0600 examples/config.yaml "$CONFIG_DIR/config.yaml"
    config_note="wrote a starter config: $CONFIG_DIR/config.yaml
  nothing syncs yet: every job in it is off. Edit it: point local_base_path and a job under sync_jobs at your own
  folders and remote, and set that job's active: true;
  $check_and_apply"
  else
    config_note="no examples/config.yaml to copy; write $CONFIG_DIR/config.yaml yourself
  $check_and_apply"
  fi
  # A unit file in the user's own unit directory overrides the installed one (an older install or a copy by hand).
  if [ "$USER_CONFIG_UNITDIR" != "$UNITDIR" ] && [ -f "$USER_CONFIG_UNITDIR/$UNIT_NAME" ]; then
    config_note="$config_note
  note: $USER_CONFIG_UNITDIR/$UNIT_NAME overrides the installed unit; delete it unless you wrote it on purpose"
  fi
fi

# ---- tell the managers -----------------------------------------------------------------------------------------------
reload_note=""
if [ "$INSTALL_MODE" = user ] && [ -z "$DESTDIR" ]; then
  if user_manager_reachable; then
    systemctl --user daemon-reload
    # dbus-daemon notices new activation files itself, but not in a directory created after it started.
    busctl --user call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig >/dev/null 2>&1 || true
  else
    reload_note="no systemd user manager is reachable from here; once one is (a login session), run: systemctl --user daemon-reload"
  fi
elif [ -z "$DESTDIR" ]; then
  reload_note="users pick up the unit with: systemctl --user daemon-reload"
fi

say "installed $APP $("$NODE" -p "require('$DESTDIR$LIBDIR/package.json').version") ($INSTALL_MODE install)"
echo "  executables: $BINDIR/rclone-bisync-manager, $BINDIR/rbmctl"
echo "  unit:        $UNITDIR/$UNIT_NAME"
echo "  D-Bus:       $DBUSDIR/services, $DBUSDIR/interfaces"
echo "  manifest:    $MANIFEST"
[ -n "$config_note" ] && echo "  $config_note"
[ -n "$reload_note" ] && echo "  $reload_note"
if [ "$INSTALL_MODE" = user ]; then
  case ":$PATH:" in *":$BINDIR:"*) ;; *) echo "  note: $BINDIR is not on your PATH" ;; esac
  echo "  start it:    systemctl --user enable --now $APP   (and loginctl enable-linger \$USER to keep it running after logout)"
fi

# ---- shell completions and manual pages ------------------------------------------------------------------------------
# Where each shell looks without configuration (bash-completion, fish) or with one fpath line (zsh); man finds
# $PREFIX/share/man from $PREFIX/bin on PATH. Recorded in the manifest like everything else.
if [ "$INSTALL_MODE" = user ]; then
  data_home="${XDG_DATA_HOME:-$HOME/.local/share}"
  BASHCOMPDIR="${BASHCOMPDIR:-$data_home/bash-completion/completions}"
  ZSHCOMPDIR="${ZSHCOMPDIR:-$data_home/zsh/site-functions}"
  FISHCOMPDIR="${FISHCOMPDIR:-$data_home/fish/vendor_completions.d}"
else
  BASHCOMPDIR="${BASHCOMPDIR:-$PREFIX/share/bash-completion/completions}"
  ZSHCOMPDIR="${ZSHCOMPDIR:-$PREFIX/share/zsh/vendor-completions}"
  FISHCOMPDIR="${FISHCOMPDIR:-$PREFIX/share/fish/vendor_completions.d}"
fi
MANDIR="${MANDIR:-$PREFIX/share/man}"
install_file() { # install_file SRC DEST
  make_dir "$(dirname "$1")" >/dev/null
  install -m 0644 "$2" "$DESTDIR$1"
  record file "$1"
}
if [ -d completions ]; then
  cp -R completions "$DESTDIR$LIBDIR/"
  install_file "$BASHCOMPDIR/rbmctl" completions/rbmctl.bash
  install_file "$ZSHCOMPDIR/_rbmctl" completions/_rbmctl
  install_file "$FISHCOMPDIR/rbmctl.fish" completions/rbmctl.fish
fi
if [ -d man ]; then
  cp -R man "$DESTDIR$LIBDIR/"
  for page in man/*.[1-9]; do install_file "$MANDIR/man${page##*.}/$(basename "$page")" "$page"; done
fi
{
  grep '^#' "$DESTDIR$MANIFEST"
  { grep -v '^#' "$DESTDIR$MANIFEST"; printf '%s\n' "${NEW_ENTRIES[@]}"; } | LC_ALL=C sort -u
} >"$DESTDIR$MANIFEST.new"
mv -f "$DESTDIR$MANIFEST.new" "$DESTDIR$MANIFEST"
echo "  completions: $BASHCOMPDIR/rbmctl (bash), $ZSHCOMPDIR/_rbmctl (zsh), $FISHCOMPDIR/rbmctl.fish (fish)"
echo "  manuals:     $MANDIR/man1 (man rbmctl, man $APP), $MANDIR/man5 (man $APP.yaml)"
if [ "$INSTALL_MODE" = user ]; then
  echo "  zsh:         add to ~/.zshrc before compinit: fpath=($ZSHCOMPDIR \$fpath)"
fi
