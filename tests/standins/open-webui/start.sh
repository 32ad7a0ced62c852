#!/usr/bin/env bash
# Start script of the Open WebUI stand-in: what the official image's backend/start.sh does for a plain
# (no Ollama, no CUDA, no Playwright, no HuggingFace Space) container.
cd "$(dirname "${BASH_SOURCE[0]}")" || exit 1

PORT=${PORT:-8080}
HOST=${HOST:-0.0.0.0}

# No secret key given: use (and first make) a key file here, outside the data volume, as the official script
# does; a replaced container thus gets a new key and every session ends.
KEY_FILE=.webui_secret_key
if [ "${WEBUI_SECRET_KEY:-} ${WEBUI_JWT_SECRET_KEY:-}" = " " ]; then
	echo "Loading WEBUI_SECRET_KEY from file, not provided as an environment variable."
	if ! [ -e "$KEY_FILE" ]; then
		echo "Generating WEBUI_SECRET_KEY"
		head -c 12 /dev/random | base64 >"$KEY_FILE"
	fi
	echo "Loading WEBUI_SECRET_KEY from $KEY_FILE"
	WEBUI_SECRET_KEY=$(cat "$KEY_FILE")
fi
export WEBUI_SECRET_KEY

# Arguments replace the default worker count, as in the official script.
if [ "$#" -gt 0 ]; then
	args=("$@")
else
	args=(--workers "${UVICORN_WORKERS:-1}")
fi
exec python3 -m uvicorn open_webui.main:app --host "$HOST" --port "$PORT" --forwarded-allow-ips '*' "${args[@]}"
