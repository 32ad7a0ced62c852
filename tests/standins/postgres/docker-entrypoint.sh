#!/usr/bin/env bash
# Entrypoint of the PostgreSQL stand-in: the essentials of the official postgres image's entrypoint.
#   POSTGRES_USER (postgres), POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust),
#   POSTGRES_DB (= the user), POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD, and *_FILE variants of the first
#   four (Docker secrets); scripts in /docker-entrypoint-initdb.d run once, when the cluster is created.
set -Eeo pipefail

# VAR from VAR or from the file VAR_FILE names (not both), else DEFAULT; exported.
from_env_or_file() {
	local var=$1 default=${2:-} file_var="${1}_FILE"
	if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
		echo "error: both $var and $file_var are set (but are exclusive)" >&2
		exit 1
	fi
	local value=$default
	if [ -n "${!var:-}" ]; then
		value=${!var}
	elif [ -n "${!file_var:-}" ]; then
		value=$(<"${!file_var}")
	fi
	export "$var=$value"
	unset "$file_var"
}

# psql as the superuser over the socket, stopping at the first error.
run_sql() {
	PGHOST= PGHOSTADDR= psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"
}

wants_help() {
	local arg
	for arg; do
		case "$arg" in
			-'?' | --help | --describe-config | -V | --version) return 0 ;;
		esac
	done
	return 1
}

init_cluster() {
	if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
		cat >&2 <<-'EOF'
			Error: Database is uninitialized and superuser password is not specified.
			       You must specify POSTGRES_PASSWORD to a non-empty value for the
			       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

			       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
			       connections without a password. This is *not* recommended.
		EOF
		exit 1
	fi
	ls /docker-entrypoint-initdb.d/ >/dev/null

	# initdb wants the current uid in /etc/passwd: fake it with nss_wrapper for an unknown --user.
	local wrapper=""
	if ! getent passwd "$(id -u)" >/dev/null; then
		for wrapper in /usr/lib/*/libnss_wrapper.so /usr/lib/libnss_wrapper.so ""; do
			[ -s "$wrapper" ] && break
		done
		if [ -n "$wrapper" ]; then
			NSS_WRAPPER_PASSWD=$(mktemp) NSS_WRAPPER_GROUP=$(mktemp)
			export LD_PRELOAD=$wrapper NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
			printf 'postgres:x:%s:%s:PostgreSQL:%s:/bin/false\n' "$(id -u)" "$(id -g)" "$PGDATA" >"$NSS_WRAPPER_PASSWD"
			printf 'postgres:x:%s:\n' "$(id -g)" >"$NSS_WRAPPER_GROUP"
		fi
	fi
	# The password through a file descriptor, never argv; --pwfile refuses an empty file, hence the newline.
	# initdb's own defaults stay, as in the official image: trust for the socket and loopback.
	eval 'initdb --username="$POSTGRES_USER" --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD") '"$POSTGRES_INITDB_ARGS"
	if [ -n "$wrapper" ]; then
		rm -f "$NSS_WRAPPER_PASSWD" "$NSS_WRAPPER_GROUP"
		unset LD_PRELOAD NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
	fi

	# Every other host: the configured password encryption (scram-sha-256) unless a method was asked for.
	local server_args=("$@")
	[ "${server_args[0]:-}" = postgres ] && server_args=("${server_args[@]:1}")
	: "${POSTGRES_HOST_AUTH_METHOD:=$(postgres -C password_encryption "${server_args[@]}")}"
	printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"

	# A socket-only server for the set-up.
	export PGPASSWORD=${PGPASSWORD:-$POSTGRES_PASSWORD}
	NOTIFY_SOCKET= PGUSER=${PGUSER:-$POSTGRES_USER} pg_ctl -D "$PGDATA" -w start \
		-o "$(printf '%q ' "${server_args[@]}" -c listen_addresses='' -p "${PGPORT:-5432}")"

	if [ "$POSTGRES_DB" != postgres ]; then
		local exists
		exists=$(run_sql --dbname postgres --set db="$POSTGRES_DB" --tuples-only <<-'EOSQL'
			SELECT 1 FROM pg_database WHERE datname = :'db';
		EOSQL
		)
		if [ -z "$exists" ]; then
			run_sql --dbname postgres --set db="$POSTGRES_DB" <<-'EOSQL'
				CREATE DATABASE :"db";
			EOSQL
		fi
	fi

	local f
	for f in /docker-entrypoint-initdb.d/*; do
		case "$f" in
			*.sh)
				echo "$0: running $f"
				if [ -x "$f" ]; then "$f"; else . "$f"; fi
				;;
			*.sql) echo "$0: running $f"; run_sql --dbname "$POSTGRES_DB" -f "$f" ;;
			*.sql.gz) echo "$0: running $f"; gunzip -c "$f" | run_sql --dbname "$POSTGRES_DB" ;;
			*.sql.xz) echo "$0: running $f"; xzcat "$f" | run_sql --dbname "$POSTGRES_DB" ;;
			*.sql.zst) echo "$0: running $f"; zstd -dc "$f" | run_sql --dbname "$POSTGRES_DB" ;;
			*/\*) ;;
			*) echo "$0: ignoring $f" ;;
		esac
	done

	PGUSER=${PGUSER:-postgres} pg_ctl -D "$PGDATA" -m fast -w stop
	unset PGPASSWORD
	echo
	echo 'PostgreSQL init process complete; ready for start up.'
	echo
}

main() {
	# `docker run IMAGE -c shared_buffers=256MB`: those are server arguments.
	if [ "${1:0:1}" = - ]; then
		set -- postgres "$@"
	fi

	if [ "$1" = postgres ] && ! wants_help "$@"; then
		from_env_or_file POSTGRES_PASSWORD
		from_env_or_file POSTGRES_USER postgres
		from_env_or_file POSTGRES_DB "$POSTGRES_USER"
		from_env_or_file POSTGRES_INITDB_ARGS
		: "${POSTGRES_HOST_AUTH_METHOD:=}"

		mkdir -p "$PGDATA"
		chmod 00700 "$PGDATA" || :
		mkdir -p /var/run/postgresql || :
		chmod 03775 /var/run/postgresql || :
		if [ "$(id -u)" = 0 ]; then
			# Hand the data directory to postgres (a fresh volume, or one from another image), then drop root.
			find "$PGDATA" /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
			exec gosu postgres "$BASH_SOURCE" "$@"
		fi

		if [ -s "$PGDATA/PG_VERSION" ]; then
			echo
			echo 'PostgreSQL Database directory appears to contain a database; Skipping initialization'
			echo
		else
			init_cluster "$@"
		fi
	fi

	exec "$@"
}

main "$@"
