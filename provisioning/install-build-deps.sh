#!/usr/bin/env bash
# Installs, with apt-get, the Debian packages that building and testing edge-agent need and that
# are missing. Safe to run again: it installs nothing when everything is there.
#   provisioning/install-build-deps.sh          libraries for building and running
#   provisioning/install-build-deps.sh --deb    plus the tools `make deb` uses
#   provisioning/install-build-deps.sh --test   plus the tools the test suite and lint use
set -euo pipefail

packages=(pkg-config libsqlite3-dev libsodium-dev libopus-dev libopusenc-dev libspeexdsp-dev libasound2-dev
    libespeak-ng-dev espeak-ng libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us)
testing=false
if [[ "${1:-}" == "--deb" || "${1:-}" == "--test" ]]; then
    # dpkg-shlibdeps finds the package's Depends:, patchelf points the program at its bundled runtime.
    packages+=(dpkg-dev patchelf)
fi
if [[ "${1:-}" == "--test" ]]; then
    testing=true
    # lintian checks the package the tests build; install.sh asks with curl and ss; the staff page is
    # tested in headless Chromium through chromedriver.
    packages+=(lintian curl iproute2 chromium chromium-driver)
    # prometheus brings promtool (the alert rules' check and unit tests); python3-jsonschema checks the
    # Grafana dashboard against observability/grafana/dashboard.schema.json.
    packages+=(shellcheck opus-tools postgresql-15 python3-venv systemd prometheus python3-jsonschema)
fi

# The S3-compatible server the recording-store tests start (moto) and Twilio's own library (the
# signature cross-check), both from PyPI, in a virtualenv of its
# own; the tests find its python at EDGE_TEST_PYTHON or at this default.
install_test_python() {
    local venv="${EDGE_TEST_VENV:-$HOME/.cache/edge-agent-test-venv}"
    if [[ -x "$venv/bin/python3" ]] && "$venv/bin/python3" -c "import moto.server, boto3, twilio.request_validator" 2>/dev/null; then
        return 0
    fi
    echo "install-build-deps: installing moto (S3 test server) and twilio (signature cross-check) into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "moto[server]>=5,<6" "twilio>=9,<10"
}

if ! command -v swift >/dev/null 2>&1; then
    echo "install-build-deps: the Swift 6 toolchain is not on PATH; install it (swift.org) and run again" >&2
    exit 1
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
    if $testing; then install_test_python; fi
    exit 0
fi

echo "install-build-deps: installing ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
    else
        echo "install-build-deps: need root (or sudo) to install ${missing[*]}" >&2
        exit 1
    fi
fi
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
if $testing; then install_test_python; fi
