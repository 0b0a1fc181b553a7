# Shared helpers for the project's setup scripts. Sourced, never run.
set -euo pipefail

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="$PROJECT_DIR/.cache"

say() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Run a command as root: directly when we are root, else through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root for: $* (run as root or install sudo)"; fi
}

# Install the Debian packages that are missing; does nothing when all are present.
ensure_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The packages the product itself needs at run time and to build sd-notify.
RUNTIME_PACKAGES=(rclone dbus-daemon dbus-user-session cpulimit g++ make python3 libsystemd-dev pkg-config)
# Extra packages the test suite needs (busctl comes with systemd, gdbus with libglib2.0-bin; the shells and man for the
# completion and manual-page tests; lintian for the .deb test, whose dpkg-deb comes with dpkg; dunst under Xvfb and
# python3-dbusmock's notification daemon for the desktop-notification tests; faketime for the run-conditions window test).
TEST_PACKAGES=(systemd libglib2.0-bin procps util-linux openssh-client jq bash-completion zsh fish man-db groff-base lintian dunst xvfb python3-dbusmock faketime)

ensure_node_modules() {
  cd "$PROJECT_DIR"
  local stamp="node_modules/.rbm-lock-stamp"
  if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then return 0; fi
  say "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
}

# Build dist/ unless it is newer than every source file (so a second run, or a run right after the tests, is instant).
build_project() {
  cd "$PROJECT_DIR"
  local stamp="dist/.build-stamp"
  if [ -f "$stamp" ] && [ -z "$(find src bench scripts/bundle.mjs package.json package-lock.json tsconfig.json tsconfig.build.json -newer "$stamp" -print -quit 2>/dev/null)" ]; then
    return 0
  fi
  say "building"
  npm run --silent build
  touch "$stamp"
}

# Semantic version of an rclone binary as "major.minor", e.g. "1.60".
rclone_minor_version() {
  "$1" version 2>/dev/null | sed -n '1s/^rclone v\([0-9]*\)\.\([0-9]*\).*/\1.\2/p'
}

version_at_least() { # version_at_least 1.60 1.66
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

# Print the first archive mirror URI the system's apt is configured with (deb822 or one-line format).
system_mirror_uri() {
  local uri=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk '/^URIs:/ {print $2; exit}' "$f" | grep -v -- '-security' || true)
    [ -n "$uri" ] && break
  done
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1=="deb" { for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list | grep -v -- '-security' | head -n1 || true)
  fi
  [ -n "$uri" ] || die "cannot find an apt mirror in /etc/apt/sources.list{,.d}"
  printf '%s\n' "$uri"
}

# Make a modern rclone (>= 1.66) available in .cache/rclone-modern/rclone without touching the system's apt sources:
# a throw-away apt configuration under .cache points at the development suite of the mirror the system already uses.
ensure_modern_rclone() {
  local dest="$CACHE_DIR/rclone-modern"
  if [ -x "$dest/rclone" ]; then return 0; fi
  local system_version
  system_version=$(rclone_minor_version rclone || true)
  if [ -n "$system_version" ] && version_at_least "$system_version" 1.66; then
    mkdir -p "$dest"; ln -sf "$(command -v rclone)" "$dest/rclone"; return 0
  fi
  say "system rclone is ${system_version:-missing}; fetching a current rclone package into $dest"
  local work="$CACHE_DIR/apt-dev" mirror suite keyring components
  mirror=$(system_mirror_uri)
  . /etc/os-release
  if [ "${ID:-}" = ubuntu ]; then
    suite=devel; keyring=/usr/share/keyrings/ubuntu-archive-keyring.gpg; components="main universe"
  else
    suite=unstable; keyring=/usr/share/keyrings/debian-archive-keyring.gpg; components=main
  fi
  rm -rf "$work"; mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/deb"
  echo "deb [signed-by=$keyring] $mirror $suite $components" > "$work/sources.list"
  local apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o Debug::NoLocking=1
    -o APT::Sandbox::User=root -qq)
  apt-get "${apt_opts[@]}" update
  (cd "$work/deb" && apt-get "${apt_opts[@]}" download rclone)
  local deb
  deb=$(ls "$work"/deb/rclone_*.deb | head -n1)
  rm -rf "$work/unpacked"; dpkg-deb -x "$deb" "$work/unpacked"
  mkdir -p "$dest"; install -m 0755 "$work/unpacked/usr/bin/rclone" "$dest/rclone"
  rm -rf "$work"
  say "modern rclone: $("$dest/rclone" version | head -n1)"
}
