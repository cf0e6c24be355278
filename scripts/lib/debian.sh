# shellcheck shell=bash
# Fetches Debian packages from any suite into a private cache, without touching the
# machine's apt configuration: apt runs with its own sources list, lists and archive
# directories under $NICE_ETCD_CACHE/apt/<suite>, and packages are unpacked with dpkg -x.

NICE_ETCD_ROOT=${NICE_ETCD_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
NICE_ETCD_CACHE=${NICE_ETCD_CACHE:-$NICE_ETCD_ROOT/.cache}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

# Prints the apt-get options that make apt use only the private state for suite $1.
debian_apt_opts() {
  local suite=$1 dir="$NICE_ETCD_CACHE/apt/$1"
  printf '%s\n' \
    -o "Dir::Etc::SourceList=$dir/sources.list" \
    -o "Dir::Etc::SourceParts=$dir/sources.list.d" \
    -o "Dir::State::Lists=$dir/lists" \
    -o "Dir::State::status=$dir/status" \
    -o "Dir::Cache=$dir/cache" \
    -o "Debug::NoLocking=1" \
    -o "APT::Sandbox::User=root" \
    -o "APT::Architecture=$(dpkg --print-architecture)"
}

# Refreshes the package index of suite $1 (at most once a day).
debian_update() {
  local suite=$1 dir="$NICE_ETCD_CACHE/apt/$1"
  mkdir -p "$dir/lists/partial" "$dir/sources.list.d" "$dir/cache/archives/partial"
  : > "$dir/status"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $DEBIAN_MIRROR $suite main" > "$dir/sources.list"
  if [ -z "$(find "$dir/lists" -maxdepth 1 -name '*_Packages*' -mtime -1 2>/dev/null | head -n1)" ]; then
    local opts; mapfile -t opts < <(debian_apt_opts "$suite")
    apt-get "${opts[@]}" -qq update >&2
  fi
}

# Prints the candidate version of package $2 in suite $1.
debian_version() {
  local opts; mapfile -t opts < <(debian_apt_opts "$1")
  apt-cache "${opts[@]}" show "$2" 2>/dev/null | awk '/^Version:/ {print $2; exit}'
}

# Downloads package $2 of suite $1 and unpacks it into directory $3.
debian_unpack() {
  local suite=$1 pkg=$2 dest=$3 tmp opts
  mapfile -t opts < <(debian_apt_opts "$suite")
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get "${opts[@]}" -qq download "$pkg" >&2)
  mkdir -p "$dest"
  dpkg -x "$tmp"/*.deb "$dest"
  rm -rf "$tmp"
}
