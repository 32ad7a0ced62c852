#!/bin/sh
# Entrypoint of the HAProxy stand-in: the rules of the official haproxy image's entrypoint.
set -e

# `docker run IMAGE -f /some.cfg`: those are haproxy arguments.
case "$1" in
	-*) set -- haproxy "$@" ;;
esac

# haproxy itself runs in master-worker mode (-W, reload on SIGUSR2) and in the foreground (-db).
if [ "$1" = haproxy ]; then
	shift
	set -- haproxy -W -db "$@"
fi

exec "$@"
