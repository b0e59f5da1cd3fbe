#!/usr/bin/env bash
# Packages an already-built edge-agent as a Debian package, edge-agent_<version>_<arch>.deb, with
# dpkg-deb. `make deb` runs it on the release build; the tests run it on the debug build.
#   provisioning/build-deb.sh --binary-dir .build/release [--version 0.1.0] [--output dist] [--compression xz]
#
# What goes where:
#   /opt/edge-agent/bin/edge-agent                        the program, stripped
#   /opt/edge-agent/bin/edge-agent_EdgeAgent.resources/   its SwiftPM resource bundle (Bundle.module looks beside the program)
#   /opt/edge-agent/lib/                                  the Swift runtime libraries, when the program is not linked
#                                                         with --static-swift-stdlib (no Debian package has them)
#   /opt/edge-agent/README.md                             the units' Documentation=
#   /lib/systemd/system/edge-agent*.{service,timer}       the units of systemd/
#   /etc/edge-agent/config.yaml                           a conffile, from provisioning/config.example.yaml
# Depends: is worked out by dpkg-shlibdeps from the libraries the program (and the bundled runtime) link.
# The version is the VERSION file's unless --version is given.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    echo "usage: provisioning/build-deb.sh --binary-dir DIR [--version V] [--output DIR] [--compression xz|gzip|none]" >&2
    exit 2
}

# An option's value: present, and not the next option.
value() { [[ $# -ge 2 && -n "$2" && "$2" != --* ]] || usage; }
binary_dir=""
version=""
output="dist"
compression="xz"
while [[ $# -gt 0 ]]; do
    case "$1" in
    --binary-dir) value "$@" && binary_dir=$2 && shift 2 ;;
    --version) value "$@" && version=$2 && shift 2 ;;
    --output) value "$@" && output=$2 && shift 2 ;;
    --compression) value "$@" && compression=$2 && shift 2 ;;
    *) usage ;;
    esac
done
[[ -n "$binary_dir" ]] || usage
[[ -n "$version" ]] || version=$(tr -d '[:space:]' <VERSION)
if [[ ! "$version" =~ ^[0-9][A-Za-z0-9.+~]*$ ]]; then
    echo "build-deb: '$version' is not a Debian version (digits first, then letters, digits, . + ~)" >&2
    exit 2
fi
for tool in dpkg-deb dpkg-shlibdeps patchelf strip; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "build-deb: $tool is missing; run provisioning/install-build-deps.sh --test" >&2
        exit 1
    fi
done
program="$binary_dir/edge-agent"
resources="$binary_dir/edge-agent_EdgeAgent.resources"
if [[ ! -x "$program" || ! -d "$resources" ]]; then
    echo "build-deb: $program and $resources must exist; build first (swift build -c release --product edge-agent)" >&2
    exit 1
fi

arch=$(dpkg --print-architecture)
package="edge-agent_${version}_${arch}.deb"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/root"

install -d -m 0755 "$root/DEBIAN" "$root/opt/edge-agent/bin" "$root/lib/systemd/system" "$root/etc/edge-agent" \
    "$root/usr/share/doc/edge-agent"
# The same stripping as dh_strip: no symbols a running program needs, so backtraces name addresses only.
strip --remove-section=.comment --remove-section=.note -o "$root/opt/edge-agent/bin/edge-agent" "$program"
chmod 0755 "$root/opt/edge-agent/bin/edge-agent"
cp -R "$resources" "$root/opt/edge-agent/bin/"
install -m 0644 README.md "$root/opt/edge-agent/README.md"
install -m 0644 systemd/edge-agent.service systemd/edge-agent-backup.service systemd/edge-agent-backup.timer \
    "$root/lib/systemd/system/"
install -m 0644 provisioning/config.example.yaml "$root/etc/edge-agent/config.yaml"

# Libraries that no Debian package owns (the Swift runtime of a toolchain in /opt or /usr/share/swift)
# travel in /opt/edge-agent/lib, found through RUNPATH=$ORIGIN/../lib; everything else is a Depends.
bundled=()
while read -r library; do
    [[ -n "$library" ]] || continue
    if dpkg-query -S "$library" >/dev/null 2>&1 || dpkg-query -S "$(readlink -f "$library")" >/dev/null 2>&1; then
        continue
    fi
    bundled+=("$library")
done < <(ldd "$program" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
if [[ ${#bundled[@]} -gt 0 ]]; then
    install -d -m 0755 "$root/opt/edge-agent/lib"
    for library in "${bundled[@]}"; do
        target="$root/opt/edge-agent/lib/$(basename "$library")"
        strip --strip-unneeded --remove-section=.comment --remove-section=.note -o "$target" "$(readlink -f "$library")"
        chmod 0644 "$target"
        # shellcheck disable=SC2016 # $ORIGIN is the loader's, not the shell's.
        patchelf --set-rpath '$ORIGIN' "$target"
    done
    # shellcheck disable=SC2016 # $ORIGIN is the loader's, not the shell's.
    patchelf --set-rpath '$ORIGIN/../lib' "$root/opt/edge-agent/bin/edge-agent"
else
    patchelf --remove-rpath "$root/opt/edge-agent/bin/edge-agent"
fi

# dpkg-shlibdeps reads the package's name from debian/control; it maps each linked library to the
# Debian package and minimum version that provide it (libc6, libsodium23, libsqlite3-0, ...).
install -d "$work/shlibs/debian"
printf 'Source: edge-agent\n\nPackage: edge-agent\nArchitecture: any\n' >"$work/shlibs/debian/control"
elves=("$root/opt/edge-agent/bin/edge-agent")
if [[ -d "$root/opt/edge-agent/lib" ]]; then
    while IFS= read -r -d '' library; do elves+=("$library"); done < <(find "$root/opt/edge-agent/lib" -name '*.so*' -print0)
fi
# Its warnings (the bundled runtime's unversioned sonames) are shown only when it fails.
if ! shlibs=$(cd "$work/shlibs" && dpkg-shlibdeps -O -S"$root" "${elves[@]}" 2>"$work/shlibdeps.log"); then
    cat "$work/shlibdeps.log" >&2
    echo "build-deb: dpkg-shlibdeps failed on $program" >&2
    exit 1
fi
depends=$(sed -n 's/^shlibs:Depends=//p' <<<"$shlibs")
if [[ -z "$depends" ]]; then
    echo "build-deb: dpkg-shlibdeps found no dependencies for $program" >&2
    exit 1
fi

date=$(date -R -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")
{
    echo "edge-agent ($version) unstable; urgency=medium"
    echo
    echo "  * Packaged from $(git describe --always --dirty 2>/dev/null || echo 'a source tree without git')."
    echo
    echo " -- edge-agent maintainers <maintainers@edge-agent.example.com>  $date"
} | gzip -9n >"$root/usr/share/doc/edge-agent/changelog.gz"
chmod 0644 "$root/usr/share/doc/edge-agent/changelog.gz"
cat >"$root/usr/share/doc/edge-agent/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: edge-agent
Comment: The on-site AI phone agent for restaurants; built from its own source tree.

Files: *
Copyright: 2026 the edge-agent authors
License: proprietary
 All rights reserved. The bundled Swift runtime (/opt/edge-agent/lib) is
 Copyright Apple Inc. and the Swift project authors, Apache-2.0 with the Runtime
 Library Exception; see https://swift.org/LICENSE.txt.
EOF
chmod 0644 "$root/usr/share/doc/edge-agent/copyright"

# lintian's overrides, each with the reason it does not apply to this package.
install -d -m 0755 "$root/usr/share/lintian/overrides"
cat >"$root/usr/share/lintian/overrides/edge-agent" <<'EOF'
# A site-local add-on, never part of Debian: the FHS's own use of /opt, and the path the units name.
edge-agent: dir-or-file-in-opt *
# The Swift runtime has no Debian package; it travels privately in /opt/edge-agent/lib, found by $ORIGIN.
edge-agent: custom-library-search-path *
# Yams compiles its own copy of libyaml and swift-nio-extras its own zlib (CNIOExtrasZlib) into the
# program; neither package can link Debian's.
edge-agent: embedded-library libyaml [opt/edge-agent/bin/edge-agent]
edge-agent: embedded-library zlib [opt/edge-agent/bin/edge-agent]
# Only under DPKG_ROOT (the package tests), where the host's NSS cannot see the root's own users.
edge-agent: maintainer-script-should-not-parse-etc-passwd-or-group *
EOF
chmod 0644 "$root/usr/share/lintian/overrides/edge-agent"

install -m 0755 provisioning/debian/postinst provisioning/debian/prerm provisioning/debian/postrm "$root/DEBIAN/"
echo "/etc/edge-agent/config.yaml" >"$root/DEBIAN/conffiles"
chmod 0644 "$root/DEBIAN/conffiles"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"
installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: edge-agent
Version: $version
Architecture: $arch
Maintainer: edge-agent maintainers <maintainers@edge-agent.example.com>
Installed-Size: $installed_size
Depends: $depends, passwd
Recommends: pocketsphinx-en-us
Section: net
Priority: optional
Homepage: https://edge-agent.example.com
Description: on-site AI phone agent for restaurants
 Answers the restaurant's phone: Twilio brings the call in, the agent listens,
 thinks with an LLM that reads and writes the restaurant's book and menu, and
 speaks, in English and Spanish. Reservations live in SQLite on the box and
 sync to headquarters.
 .
 The service (edge-agent.service) runs as the edge-agent system user with its
 data in /var/lib/edge-agent, kept on remove and deleted on purge.
EOF
chmod 0644 "$root/DEBIAN/control"

mkdir -p "$output"
level=()
[[ "$compression" == "gzip" ]] && level=(-z1)
dpkg-deb --root-owner-group -Z"$compression" "${level[@]}" --build "$root" "$output/$package" >/dev/null
echo "$output/$package"
