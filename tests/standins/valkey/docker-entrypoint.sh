#!/bin/sh
# Entrypoint of the Valkey stand-in: the rules of the official valkey 8.0 image's entrypoint, plus one that makes
# up for the binary: the official image compiles protected mode off, Debian's valkey-server has it on.
set -e

# `docker run IMAGE --port 7000` or `docker run IMAGE /etc/valkey.conf`: those are server arguments.
case "$1" in
	-* | *.conf) set -- valkey-server "$@" ;;
esac

# Started as root (the default): hand what is in the working directory (/data) to valkey, then drop root.
if [ "$1" = valkey-server ] && [ "$(id -u)" = 0 ]; then
	find . \! -user valkey -exec chown valkey '{}' +
	exec setpriv --reuid=valkey --regid=valkey --clear-groups -- "$0" "$@"
fi

# A stricter umask unless the caller chose one.
if [ "$(umask)" = 0022 ]; then
	umask 0077
fi

# Protected mode off, as the official build's default: a config file given first is read before the command
# line, so the option goes right after it (and before the caller's options, which still win), and only when
# that file does not set protected-mode itself. Informational runs (--version, --help) get nothing added.
if [ "$1" = valkey-server ]; then
	shift
	case "${1:-}" in
		-v | --version | -h | --help | --test-memory) set -- valkey-server "$@" ;;
		- | [!-]*)
			conf=$1
			shift
			if [ "$conf" != - ] && grep -qiE '^[[:space:]]*protected-mode[[:space:]]' "$conf" 2>/dev/null; then
				set -- valkey-server "$conf" "$@"
			else
				set -- valkey-server "$conf" --protected-mode no "$@"
			fi
			;;
		*) set -- valkey-server --protected-mode no "$@" ;;
	esac
fi

# shellcheck disable=SC2086 # VALKEY_EXTRA_FLAGS is split into words, as in the official entrypoint
exec "$@" $VALKEY_EXTRA_FLAGS
