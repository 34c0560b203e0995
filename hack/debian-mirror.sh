#!/usr/bin/env bash
# Prints the Debian mirror this machine installs its packages from, for debootstrap:
#   bash hack/debian-mirror.sh [SUITE]
# ATELIER_DEBIAN_MIRROR wins when set. Otherwise the machine's apt sources are read
# (one-line *.list and deb822 *.sources files): the first "deb" entry for SUITE with the
# "main" component, else the first one whose address ends in /debian. Sites with an
# internal mirror get theirs, and the repository names no public host.
set -euo pipefail

SUITE="${1:-bookworm}"
APT_ETC="${ATELIER_APT_ETC:-/etc/apt}"

if [ -n "${ATELIER_DEBIAN_MIRROR:-}" ]; then
  echo "$ATELIER_DEBIAN_MIRROR"
  exit 0
fi

# One "URI SUITE COMPONENTS..." line per suite of every enabled "deb" entry.
entries() {
  local file
  for file in "$APT_ETC/sources.list" "$APT_ETC"/sources.list.d/*.list; do
    [ -f "$file" ] || continue
    # deb [options] URI SUITE COMPONENTS...
    sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$file" | awk '$1 == "deb" && NF >= 4 { $1 = ""; print substr($0, 2) }'
  done
  for file in "$APT_ETC"/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    awk '
      function flush(   i, n, suites) {
        if (types ~ /(^| )deb( |$)/ && enabled !~ /^(no|false)$/ && uri != "") {
          n = split(suite_list, suites, " ")
          for (i = 1; i <= n; i++) print uri, suites[i], components
        }
        types = uri = suite_list = components = enabled = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      {
        field = tolower($1); sub(/:$/, "", field); $1 = ""; value = substr($0, 2)
        if (field == "types") types = value
        else if (field == "uris") { split(value, uris, " "); uri = uris[1] }
        else if (field == "suites") suite_list = value
        else if (field == "components") components = value
        else if (field == "enabled") enabled = tolower(value)
      }
      END { flush() }
    ' "$file"
  done
}

usable=$(entries | awk '$1 ~ /^(https?|file):/')
mirror=$(echo "$usable" | awk -v suite="$SUITE" '$2 == suite && / main( |$)/ { print $1; exit }')
[ -n "$mirror" ] || mirror=$(echo "$usable" | awk '$1 ~ /\/debian\/?$/ { print $1; exit }')
if [ -z "$mirror" ]; then
  echo "error: no Debian mirror for '$SUITE' in $APT_ETC/sources.list*; set ATELIER_DEBIAN_MIRROR to one" >&2
  exit 1
fi
echo "${mirror%/}"
