#!/usr/bin/env bash
# Removes edge-agent from a restaurant box:
#
#   sudo provisioning/uninstall.sh [--purge] [--dry-run]
#
# Without --purge the program and its units go, and the data (/var/lib/edge-agent: the database,
# recordings, backups, the box's key) and the configuration (/etc/edge-agent) stay, so installing
# again picks up where the box was. --purge deletes both too: the box forgets its reservations, its
# enrolment and its key (headquarters keeps what was synced; revoke the device there with
# `edge-hq devices revoke ID`).
#
# EDGE_INSTALL_ROOT=DIR (the tests) removes from DIR instead of /, through `dpkg --root`.
set -euo pipefail

root="${EDGE_INSTALL_ROOT:-}"
purge=false
dry_run=false
while [[ $# -gt 0 ]]; do
    case "$1" in
    --purge) purge=true && shift ;;
    --dry-run) dry_run=true && shift ;;
    *)
        echo "usage: provisioning/uninstall.sh [--purge] [--dry-run]" >&2
        exit 2
        ;;
    esac
done

fail() {
    echo "uninstall: $*" >&2
    exit 1
}

if [[ -z "$root" && $(id -u) -ne 0 ]] && ! $dry_run; then fail "run as root (sudo provisioning/uninstall.sh)"; fi
status=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${db:Status-Abbrev}' edge-agent 2>/dev/null || true)
data="$root/var/lib/edge-agent"
action=remove
$purge && action=purge

if [[ -z "$status" || "$status" == "un"* || ("$status" == "rc"* && $action == remove) ]]; then
    echo "uninstall: edge-agent is not installed${status:+ (only its data and configuration are left: --purge deletes them)}"
    if [[ "$status" != "rc"* ]] || ! $purge; then exit 0; fi
fi

if $dry_run; then
    echo "would $action edge-agent"
    if $purge; then echo "would delete $data and $root/etc/edge-agent"; else echo "would keep $data and $root/etc/edge-agent"; fi
    exit 0
fi

if [[ -n "$root" ]]; then
    option=--remove
    $purge && option=--purge
    output=$(dpkg --root="$root" --force-script-chrootless --force-not-root "$option" edge-agent 2>&1) ||
        fail "dpkg could not $action edge-agent: $(tail -1 <<<"$output")"
else
    # The prerm stops the service and the backup timer first.
    output=$(DEBIAN_FRONTEND=noninteractive apt-get "$action" -y -qq edge-agent 2>&1) ||
        fail "apt-get could not $action edge-agent: $(tail -1 <<<"$output")"
fi

if $purge; then
    echo "uninstall: edge-agent purged; its data and configuration are deleted"
else
    echo "uninstall: edge-agent removed; kept $data and $root/etc/edge-agent (--purge deletes them)"
fi
