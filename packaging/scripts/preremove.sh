#!/bin/sh
# dealerdesk .deb prerm: stop the service before its files go. On an upgrade
# ($1 = upgrade) postinst restarts it, so only stop it here.
set -e
if [ -d /run/systemd/system ]; then
	systemctl stop dealerdesk.service || true
	if [ "$1" = "remove" ] || [ "$1" = "purge" ]; then
		systemctl disable dealerdesk.service >/dev/null || true
	fi
fi
exit 0
