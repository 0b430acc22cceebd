#!/bin/sh
# dealerdesk .deb postinst: the service account, the data directory, and the service.
# On an upgrade the service is restarted; DealerDesk takes a pre-upgrade backup and
# migrates the database by itself when it starts.
set -e

if ! getent group dealerdesk >/dev/null; then
	groupadd --system dealerdesk
fi
if ! getent passwd dealerdesk >/dev/null; then
	useradd --system --gid dealerdesk --home-dir /var/lib/dealerdesk --no-create-home \
		--shell /usr/sbin/nologin --comment "DealerDesk" dealerdesk
fi
mkdir -p /var/lib/dealerdesk
chown dealerdesk:dealerdesk /var/lib/dealerdesk
chmod 0750 /var/lib/dealerdesk

# Not on a machine without systemd (a container, a chroot): nothing to start.
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null || true
	# $1 is "configure"; $2 is the version being upgraded from (empty on a first install).
	if [ -n "$2" ]; then
		systemctl enable dealerdesk.service >/dev/null || true
		systemctl restart dealerdesk.service || true
		echo "DealerDesk upgraded from $2 and restarted (a backup was taken before the upgrade: /var/lib/dealerdesk/backups)."
	else
		systemctl enable --now dealerdesk.service || true
		echo "DealerDesk is running: open http://localhost:8090 (or http://<this machine's IP>:8090)."
		echo "Settings: /etc/default/dealerdesk   Data and backups: /var/lib/dealerdesk   Logs: journalctl -u dealerdesk"
	fi
fi
exit 0
