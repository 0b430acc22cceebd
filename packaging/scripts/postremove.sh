#!/bin/sh
# dealerdesk .deb postrm. The data directory /var/lib/dealerdesk (database, files,
# backups, keys) is left in place on remove AND on purge: it is the dealership's
# business data. Delete it by hand once it is no longer needed.
set -e
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null || true
fi
if [ "$1" = "remove" ]; then
	echo "DealerDesk removed. Its data was kept in /var/lib/dealerdesk (delete it yourself if you no longer need it)."
fi
exit 0
