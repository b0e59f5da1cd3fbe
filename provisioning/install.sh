#!/usr/bin/env bash
# Installs edge-agent on a restaurant box from its Debian package, non-interactively, and leaves it
# enrolled, configured, warmed, running and checked:
#
#   sudo provisioning/install.sh --hq URL --token TOKEN --public-url URL \
#       [--twilio-sid SID --twilio-number +1...] [--secrets FILE] [--ca FILE] [--port N] \
#       [--package FILE.deb] [--dry-run]
#
# Secrets never go on the command line (other users see it in ps): TWILIO_AUTH_TOKEN and the API keys
# come from the environment (sudo --preserve-env=TWILIO_AUTH_TOKEN,...) or from --secrets FILE
# (KEY=VALUE lines), and are written to /etc/edge-agent/secrets.env (0600).
#
# The steps, each printed as it runs and each doing nothing when its work is already done, so a second
# run changes nothing:
#    1 check   root, flags, the package, the port free (or held by edge-agent), headquarters reachable,
#              the Twilio number in the account: nothing is changed before all of these pass
#    2 stage   unpack the package in a temporary folder; the configuration and secrets as they will be,
#              checked by the new program (`serve --check-config`)
#    3 enrol   `edge-agent provision --hq --token` (skipped when enrolled there already); a fresh box
#              enrols into a staging folder, so a refused token leaves nothing behind
#    4 package install or upgrade with apt-get (dpkg under EDGE_INSTALL_ROOT); skipped when installed
#    5 data    the staged enrolment moved into /var/lib/edge-agent, owned by the edge-agent user
#    6 config  /etc/edge-agent/config.yaml (public_url, http.port) and secrets.env, when they differ
#    7 twilio  `edge-agent provision --twilio-number`: the number calls the box, falls back to headquarters
#    8 warm    `edge-agent cache warm`, with its progress bar (a failure is a warning: the service warms too)
#    9 service enable and start (or restart when the package or configuration changed)
#   10 doctor  `edge-agent doctor`; its exit status is the script's
#
# A step that fails prints one line, `install: ...`, and exits 1; steps 1 to 3 change nothing on the box.
# --dry-run runs the checks and the staging (both read-only), then prints what steps 3 to 10 would do.
#
# EDGE_INSTALL_ROOT=DIR (the tests) installs into DIR instead of /: the package through
# `dpkg --root`, every path under DIR, and no systemd (the host's).
set -euo pipefail
cd "$(dirname "$0")/.."

root="${EDGE_INSTALL_ROOT:-}"
config_dir="$root/etc/edge-agent"
data_dir="$root/var/lib/edge-agent"
staging="$data_dir.install-staging"

usage() {
    cat >&2 <<'EOF'
usage: provisioning/install.sh --hq URL --token TOKEN --public-url URL [--twilio-sid SID]
       [--twilio-number NUMBER] [--secrets FILE] [--ca FILE] [--port N] [--package FILE.deb] [--dry-run]
EOF
    exit 2
}

fail() {
    echo "install: $*" >&2
    exit 1
}

# An option's value: present, and not the next option.
value() { [[ $# -ge 2 && -n "$2" && "$2" != --* ]] || usage; }
hq="" token="" public_url="" twilio_sid="" twilio_number="" secrets_file="" ca="" port="" package="" dry_run=false
while [[ $# -gt 0 ]]; do
    case "$1" in
    --hq) value "$@" && hq=$2 && shift 2 ;;
    --token) value "$@" && token=$2 && shift 2 ;;
    --public-url) value "$@" && public_url=$2 && shift 2 ;;
    --twilio-sid) value "$@" && twilio_sid=$2 && shift 2 ;;
    --twilio-number) value "$@" && twilio_number=$2 && shift 2 ;;
    --secrets) value "$@" && secrets_file=$2 && shift 2 ;;
    --ca) value "$@" && ca=$2 && shift 2 ;;
    --port) value "$@" && port=$2 && shift 2 ;;
    --package) value "$@" && package=$2 && shift 2 ;;
    --dry-run) dry_run=true && shift ;;
    -h | --help) usage ;;
    *) echo "install: unknown argument '$1'" >&2 && usage ;;
    esac
done

step_number=0
step() {
    step_number=$((step_number + 1))
    printf '[%2d/10] %s\n' "$step_number" "$*"
}
# What a step did, or in a dry run would do.
did() { printf '        %s\n' "$*"; }

# ---- 1 check ----------------------------------------------------------------------------------------
step "check the box, the flags and what the install needs"
[[ -n "$hq" && -n "$token" ]] || fail "--hq URL and --token TOKEN are required (the token from 'edge-hq enrol-token SITE')"
[[ -n "$public_url" ]] || fail "--public-url is required: the https:// URL Twilio reaches this box at"
[[ "$public_url" =~ ^https?://[^/[:space:]]+ ]] || fail "--public-url '$public_url' is not an http(s):// URL"
[[ "$hq" =~ ^https?://[^/[:space:]]+ ]] || fail "--hq '$hq' is not an http(s):// URL"
if [[ -n "$port" && ! ("$port" =~ ^[0-9]+$ && "$port" -ge 1 && "$port" -le 65535) ]]; then
    fail "--port '$port' is not a port number (1-65535)"
fi
if [[ -n "$twilio_number" ]]; then
    [[ "$twilio_number" =~ ^\+[1-9][0-9]{6,14}$ ]] || fail "--twilio-number '$twilio_number' is not an E.164 number (+15558675309)"
    [[ -n "$twilio_sid" ]] || fail "--twilio-number needs --twilio-sid (the account the number is in)"
fi
if [[ -n "$secrets_file" && ! -r "$secrets_file" ]]; then fail "cannot read --secrets $secrets_file"; fi
if [[ -n "$ca" && ! -r "$ca" ]]; then fail "cannot read --ca $ca"; fi
if [[ -z "$root" && $(id -u) -ne 0 ]] && ! $dry_run; then fail "run as root (sudo provisioning/install.sh ...)"; fi
for tool in dpkg-deb dpkg-query curl ss; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing (Debian packages dpkg, curl, iproute2)"
done
if [[ -z "$package" ]]; then
    # The newest package `make deb` left in dist/.
    package=$(find dist -maxdepth 1 -name 'edge-agent_*.deb' 2>/dev/null | sort -V | tail -1)
    [[ -n "$package" ]] || fail "no package: give --package FILE.deb or run 'make deb' first"
fi
[[ -r "$package" ]] || fail "cannot read the package $package"
package_version=$(dpkg-deb --field "$package" Version 2>/dev/null) || fail "$package is not a Debian package"
[[ "$(dpkg-deb --field "$package" Package)" == edge-agent ]] || fail "$package is not the edge-agent package"
installed_version=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${db:Status-Abbrev} ${Version}' edge-agent \
    2>/dev/null | awk '$1 == "ii" { print $2 }') || true

# The secrets as they will be: secrets.env, then --secrets FILE, then the environment (TWILIO_*, keys).
secret_names=(TWILIO_AUTH_TOKEN OPENAI_API_KEY DEEPGRAM_API_KEY ELEVENLABS_API_KEY EDGE_ADMIN_TOKEN
    EDGE_RECORDING_PUBLIC_KEY)
declare -A secrets=()
declare -a secret_order=()
put_secret() {
    [[ -v "secrets[$1]" ]] || secret_order+=("$1")
    secrets[$1]=$2
}
read_env_file() {
    local line key
    while IFS= read -r line || [[ -n "$line" ]]; do
        [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
        [[ "$line" =~ ^([A-Z][A-Z0-9_]*)=(.*)$ ]] || fail "$1: '${line%%=*}' is not a KEY=VALUE line"
        key=${BASH_REMATCH[1]}
        put_secret "$key" "${BASH_REMATCH[2]}"
    done <"$1"
}
if [[ -r "$config_dir/secrets.env" ]]; then read_env_file "$config_dir/secrets.env"; fi
if [[ -n "$secrets_file" ]]; then read_env_file "$secrets_file"; fi
for name in "${secret_names[@]}"; do
    if [[ -n "${!name:-}" ]]; then put_secret "$name" "${!name}"; fi
done
if [[ -n "$twilio_sid" ]]; then put_secret TWILIO_ACCOUNT_SID "$twilio_sid"; fi
if [[ -n "$twilio_number" && -z "${secrets[TWILIO_AUTH_TOKEN]:-}" ]]; then
    fail "--twilio-number needs TWILIO_AUTH_TOKEN, in the environment or in --secrets FILE"
fi

# The port: free, or held by edge-agent itself (a second run).
listen_port=${port:-8080}
holder=$(ss -Htlnp "sport = :$listen_port" 2>/dev/null || true)
if [[ -n "$holder" && "$holder" != *'"edge-agent"'* ]]; then
    program=$(grep -o 'users:(("[^"]*"' <<<"$holder" | head -1 | cut -d'"' -f2)
    fail "port $listen_port is in use${program:+ by $program}; stop it or give --port N"
fi

curl_tls=()
if [[ -n "$ca" ]]; then curl_tls=(--cacert "$ca"); fi
hq=${hq%/}
if ! curl -fsS --max-time 10 "${curl_tls[@]}" -o /dev/null "$hq/healthz" 2>/dev/null; then
    fail "cannot reach headquarters at $hq (GET /healthz): check the URL, the network and --ca"
fi

if [[ -n "$twilio_number" ]]; then
    twilio_api=${secrets[TWILIO_API_BASE_URL]:-${TWILIO_API_BASE_URL:-https://api.twilio.com}}
    numbers=$(curl -sS --max-time 10 -w '\n%{http_code}' -u "$twilio_sid:${secrets[TWILIO_AUTH_TOKEN]}" \
        --get --data-urlencode "PhoneNumber=$twilio_number" \
        "$twilio_api/2010-04-01/Accounts/$twilio_sid/IncomingPhoneNumbers.json" 2>/dev/null) ||
        fail "cannot reach Twilio at $twilio_api: check the network"
    case "${numbers##*$'\n'}" in
    200) ;;
    401 | 403) fail "Twilio refused account $twilio_sid: check --twilio-sid and TWILIO_AUTH_TOKEN" ;;
    *) fail "Twilio answered HTTP ${numbers##*$'\n'} for the account's numbers: try again later" ;;
    esac
    listed="\"phone_number\"[[:space:]]*:[[:space:]]*\"\\+${twilio_number#+}\""
    [[ "$numbers" =~ $listed ]] ||
        fail "$twilio_number is not a number of Twilio account $twilio_sid: check the number and --twilio-sid"
fi
did "package $package_version (installed: ${installed_version:-none}), port $listen_port, headquarters $hq"

# ---- 2 stage ----------------------------------------------------------------------------------------
step "stage the package and the configuration, checked by the new program"
work=$(mktemp -d)
cleanup() {
    rm -rf "$work"
    if [[ -n "${staged_here:-}" ]]; then rm -rf "$staging"; fi
}
trap cleanup EXIT
dpkg-deb -x "$package" "$work/package"
program="$work/package/opt/edge-agent/bin/edge-agent"
[[ -x "$program" ]] || fail "$package holds no /opt/edge-agent/bin/edge-agent"

if [[ -f "$config_dir/config.yaml" ]]; then
    cp "$config_dir/config.yaml" "$work/config.yaml"
else
    cp "$work/package/etc/edge-agent/config.yaml" "$work/config.yaml"
fi
# public_url, a top-level key: replaced in place, or added.
set_public_url() {
    if grep -q '^public_url:' "$1"; then
        sed -i "s|^public_url:.*|public_url: $2|" "$1"
    else
        printf 'public_url: %s\n' "$2" >>"$1"
    fi
}
# http.port: replaced inside the http: block, added to it, or a new block.
set_port() {
    awk -v port="$2" '
        /^http:[[:space:]]*$/ { print; inside = 1; found = 1; next }
        inside && /^[^[:space:]#]/ { if (!done) print "  port: " port; inside = 0; done = 1 }
        inside && /^[[:space:]]+port:/ { print "  port: " port; done = 1; next }
        { print }
        END {
            if (inside && !done) print "  port: " port
            if (!found) { print "http:"; print "  port: " port }
        }' "$1" >"$1.new"
    mv "$1.new" "$1"
}
set_public_url "$work/config.yaml" "$public_url"
if [[ -n "$port" ]]; then set_port "$work/config.yaml" "$port"; fi

: >"$work/secrets.env"
chmod 0600 "$work/secrets.env"
for name in "${secret_order[@]}"; do printf '%s=%s\n' "$name" "${secrets[$name]}" >>"$work/secrets.env"; done

# The program's view: configuration, secrets and data folder as `serve` will have them.
as_agent() {
    env -i PATH=/usr/bin:/bin LANG=C.UTF-8 EDGE_DATA_DIR="$1" "${secret_environment[@]}" "${@:2}"
}
secret_environment=()
for name in "${secret_order[@]}"; do secret_environment+=("$name=${secrets[$name]}"); done
if ! check=$(as_agent "$work/data" "$program" serve --config "$work/config.yaml" --check-config 2>&1 >/dev/null); then
    fail "the configuration would not start: ${check#edge-agent: }"
fi
config_changes=()
cmp -s "$work/config.yaml" "$config_dir/config.yaml" || config_changes+=(config.yaml)
cmp -s "$work/secrets.env" "$config_dir/secrets.env" || config_changes+=(secrets.env)
did "configuration checked${config_changes[*]:+; to write: ${config_changes[*]}}"

# ---- 3 enrol ----------------------------------------------------------------------------------------
step "enrol at headquarters"
enrolled_at=""
if [[ -f "$data_dir/edge.sqlite" ]]; then
    status=$(as_agent "$data_dir" "$program" sync status --config "$work/config.yaml" 2>/dev/null | head -1) || status=""
    if [[ "$status" =~ ^headquarters:\ (https?://[^ ]+) ]]; then enrolled_at=${BASH_REMATCH[1]%/}; fi
fi
enrol_into=""
if [[ -n "$enrolled_at" && "$enrolled_at" == "$hq" ]]; then
    did "already enrolled at $hq: unchanged"
elif [[ -n "$enrolled_at" ]]; then
    fail "this box is enrolled at $enrolled_at, not $hq; to move it run 'edge-agent provision --force --hq $hq --token ...'"
elif [[ -d "$data_dir" ]]; then
    enrol_into=$data_dir
else
    enrol_into=$staging
fi
if [[ -n "$enrol_into" ]]; then
    provision=(provision --config "$work/config.yaml" --hq "$hq" --token "$token")
    if [[ -n "$ca" ]]; then provision+=(--ca "$ca"); fi
    if $dry_run; then
        did "would run: edge-agent provision --hq $hq --token ****** into $enrol_into"
    else
        if [[ "$enrol_into" == "$staging" ]]; then
            rm -rf "$staging"
            staged_here=yes
            install -d -m 0700 "$staging"
        fi
        if ! enrolment=$(as_agent "$enrol_into" "$program" "${provision[@]}" 2>&1); then
            fail "enrolment refused: $(tail -1 <<<"$enrolment" | sed 's/^edge-agent: //')"
        fi
        did "$enrolment"
    fi
fi

# ---- 4 package --------------------------------------------------------------------------------------
step "install the package"
package_changed=false
if [[ "$installed_version" == "$package_version" ]]; then
    did "edge-agent $package_version is installed: unchanged"
elif $dry_run; then
    did "would install edge-agent $package_version (installed: ${installed_version:-none})"
else
    if [[ -n "$root" ]]; then
        install -d "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers"
        touch "$root/var/lib/dpkg/status"
        output=$(dpkg --root="$root" --force-script-chrootless --force-depends --force-not-root --force-confold \
            -i "$package" 2>&1) || fail "dpkg could not install $package: $(tail -1 <<<"$output")"
    else
        # apt-get installs the Depends: from Debian's archive; --force-confold keeps an edited config.yaml.
        output=$(DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Options::=--force-confold \
            "$(realpath "$package")" 2>&1) || fail "apt-get could not install $package: $(tail -1 <<<"$output")"
    fi
    package_changed=true
    did "edge-agent $package_version installed (was: ${installed_version:-none})"
fi
if $dry_run && [[ -z "$installed_version" ]]; then
    agent=$program
else
    agent="$root/opt/edge-agent/bin/edge-agent"
fi

# The edge-agent user, as numbers (under EDGE_INSTALL_ROOT the host's NSS does not know it).
owner() {
    if [[ -n "$root" ]]; then
        awk -F: '$1 == "edge-agent" { print $3 ":" $4 }' "$root/etc/passwd" 2>/dev/null
    else
        id -u edge-agent 2>/dev/null | tr '\n' ':' && id -g edge-agent 2>/dev/null
    fi
}

# ---- 5 data -----------------------------------------------------------------------------------------
step "put the enrolment in the data folder"
if [[ -d "$staging" ]] && ! $dry_run; then
    [[ ! -e "$data_dir/edge.sqlite" ]] || fail "$data_dir holds a database the staged enrolment would replace"
    install -d -m 0750 "$data_dir"
    find "$staging" -mindepth 1 -maxdepth 1 -exec mv -t "$data_dir" {} +
    rm -rf "$staging"
    staged_here=""
    chown -R "$(owner)" "$data_dir"
    did "moved into $data_dir, owned by edge-agent"
elif $dry_run && [[ "$enrol_into" == "$staging" ]]; then
    did "would move the enrolment into $data_dir, owned by edge-agent"
else
    did "unchanged"
fi

# ---- 6 config ---------------------------------------------------------------------------------------
step "write the configuration"
if [[ ${#config_changes[@]} -eq 0 ]]; then
    did "config.yaml and secrets.env: unchanged"
elif $dry_run; then
    did "would write ${config_changes[*]} in $config_dir"
else
    install -d -m 0755 "$config_dir"
    if [[ " ${config_changes[*]} " == *" config.yaml "* ]]; then
        install -m 0644 "$work/config.yaml" "$config_dir/config.yaml"
    fi
    if [[ " ${config_changes[*]} " == *" secrets.env "* ]]; then
        install -m 0600 "$work/secrets.env" "$config_dir/secrets.env"
    fi
    did "wrote ${config_changes[*]}"
fi

# The installed program, on the installed configuration, as the service runs it; files it makes in the
# data folder are given to the edge-agent user.
agent_command() {
    local status=0
    as_agent "$data_dir" "$agent" "$@" --config "$config_dir/config.yaml" || status=$?
    if [[ -d "$data_dir" && -n "$(owner)" ]]; then chown -R "$(owner)" "$data_dir"; fi
    return $status
}

# Whether the doctor finds the number already pointing here (and falling back to headquarters).
number_calls_this_box() {
    { agent_command doctor 2>/dev/null || true; } | grep -Eq "^PASS +twilio number +\\+${twilio_number#+} calls this box"
}

# ---- 7 twilio ---------------------------------------------------------------------------------------
step "point the Twilio number at this box"
if [[ -z "$twilio_number" ]]; then
    did "no --twilio-number: skipped"
elif $dry_run; then
    did "would run: edge-agent provision --twilio-number $twilio_number"
elif number_calls_this_box; then
    did "$twilio_number calls this box already: unchanged"
else
    output=$(agent_command provision --twilio-number "$twilio_number" 2>&1) ||
        fail "the Twilio number was not set: $(tail -1 <<<"$output" | sed 's/^edge-agent: //')"
    did "$output"
fi

# ---- 8 warm -----------------------------------------------------------------------------------------
step "warm the phrase cache"
if $dry_run; then
    did "would run: edge-agent cache warm"
elif agent_command cache warm; then
    :
else
    did "warning: some phrases are not cached yet; the service keeps warming them (see doctor below)"
fi

# ---- 9 service --------------------------------------------------------------------------------------
step "start the service"
if [[ -n "$root" ]]; then
    did "under EDGE_INSTALL_ROOT: systemd left alone"
elif $dry_run; then
    did "would enable and start edge-agent.service and edge-agent-backup.timer"
elif [[ ! -d /run/systemd/system ]]; then
    did "warning: systemd is not running here; start it with 'systemctl enable --now edge-agent'"
else
    systemctl daemon-reload
    systemctl enable --quiet edge-agent.service edge-agent-backup.timer
    if ! systemctl is-active --quiet edge-agent.service; then
        systemctl start edge-agent.service
        did "edge-agent.service started"
    elif $package_changed || [[ ${#config_changes[@]} -gt 0 ]]; then
        systemctl restart edge-agent.service
        did "edge-agent.service restarted with the new ${config_changes[*]:-package}"
    else
        did "edge-agent.service is running: unchanged"
    fi
    systemctl start edge-agent-backup.timer
fi

# ---- 10 doctor --------------------------------------------------------------------------------------
step "doctor"
if $dry_run; then
    did "would run: edge-agent doctor"
    exit 0
fi
agent_command doctor
