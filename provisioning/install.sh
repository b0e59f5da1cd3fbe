#!/usr/bin/env bash
# Installs edge-agent on a restaurant box from this source tree: builds a release binary, installs
# it with its resources under /opt/edge-agent, creates the edge-agent user, the configuration
# folder (keeping an existing configuration), and the systemd unit, then starts the service.
#   sudo provisioning/install.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
    echo "install: run as root (sudo provisioning/install.sh)" >&2
    exit 1
fi

provisioning/install-build-deps.sh
swift build -c release --product edge-agent
bin_dir=$(swift build -c release --show-bin-path)

id -u edge-agent >/dev/null 2>&1 || useradd --system --home-dir /var/lib/edge-agent --shell /usr/sbin/nologin edge-agent

install -d -m 0755 /opt/edge-agent/bin
install -m 0755 "$bin_dir/edge-agent" /opt/edge-agent/bin/edge-agent
# The seed menu and other resources travel in SwiftPM's resource bundle beside the binary.
rm -rf /opt/edge-agent/bin/edge-agent_EdgeAgent.resources
cp -R "$bin_dir/edge-agent_EdgeAgent.resources" /opt/edge-agent/bin/
install -m 0644 README.md /opt/edge-agent/README.md

install -d -m 0750 -g edge-agent /etc/edge-agent
if [[ ! -f /etc/edge-agent/config.yaml ]]; then
    install -m 0640 -g edge-agent provisioning/config.example.yaml /etc/edge-agent/config.yaml
    echo "install: wrote /etc/edge-agent/config.yaml from the example; edit public_url, the restaurant and its hours"
fi
if [[ ! -f /etc/edge-agent/secrets.env ]]; then
    install -m 0600 /dev/null /etc/edge-agent/secrets.env
    echo "install: add TWILIO_AUTH_TOKEN and the API keys to /etc/edge-agent/secrets.env (mode 0600)"
fi

# Refuse to install a configuration that would not start.
set -a
# shellcheck disable=SC1091
source /etc/edge-agent/secrets.env
set +a
EDGE_DATA_DIR=/var/lib/edge-agent /opt/edge-agent/bin/edge-agent serve --config /etc/edge-agent/config.yaml --check-config >/dev/null

install -m 0644 systemd/edge-agent.service /etc/systemd/system/edge-agent.service
install -m 0644 systemd/edge-agent-backup.service /etc/systemd/system/edge-agent-backup.service
install -m 0644 systemd/edge-agent-backup.timer /etc/systemd/system/edge-agent-backup.timer
systemctl daemon-reload
systemctl enable --now edge-agent.service
systemctl enable --now edge-agent-backup.timer
systemctl --no-pager status edge-agent.service | head -5
