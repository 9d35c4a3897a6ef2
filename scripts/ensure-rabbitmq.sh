#!/usr/bin/env bash
# Make sure a RabbitMQ broker answers AMQP on 127.0.0.1:5672 (or RABBITMQ_HOST/RABBITMQ_PORT).
# Reuses a running broker; otherwise starts the local rabbitmq-server, installing it
# with apt-get first if needed. Never stops a broker: it is shared with other work.
set -euo pipefail

HOST="${RABBITMQ_HOST:-127.0.0.1}"
PORT="${RABBITMQ_PORT:-5672}"
WAIT_SECONDS="${RABBITMQ_WAIT_SECONDS:-60}"

# A bare TCP connect is not enough: the port can open before the broker is ready,
# so send the AMQP 0-9-1 protocol header and expect a method frame (type 1) back.
amqp_ready() {
    python3 - "$HOST" "$PORT" <<'EOF' 2>/dev/null
import socket, sys
with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2) as s:
    s.settimeout(3)
    s.sendall(b"AMQP\x00\x00\x09\x01")
    sys.exit(0 if s.recv(1) == b"\x01" else 1)
EOF
}

if amqp_ready; then
    echo "==> RabbitMQ is up at $HOST:$PORT"
    exit 0
fi

case "$HOST" in
    127.0.0.1|localhost|::1) ;;
    *) echo "ERROR: RabbitMQ at $HOST:$PORT is not reachable (not local, so not starting one)" >&2; exit 1 ;;
esac

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if ! command -v rabbitmq-server >/dev/null 2>&1 && [ ! -x /usr/sbin/rabbitmq-server ]; then
    echo "==> installing rabbitmq-server with apt-get (one-time)"
    $SUDO apt-get update -qq
    # The package's own service start may fail in containers without systemd; we start it below.
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq rabbitmq-server >/dev/null || {
        command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/sbin/rabbitmq-server ] || {
            echo "ERROR: could not install rabbitmq-server with apt-get" >&2; exit 1; }
    }
fi

# apt may have started it already (systemd hosts); check before starting a second node.
if ! amqp_ready; then
    echo "==> starting rabbitmq-server -detached"
    # Non-zero exit here usually means "node already running/booting"; the wait below decides.
    PATH="$PATH:/usr/sbin" $SUDO rabbitmq-server -detached >/dev/null 2>&1 || true
fi

echo -n "==> waiting up to ${WAIT_SECONDS}s for RabbitMQ on $HOST:$PORT "
for ((i = 1; i <= WAIT_SECONDS; i++)); do
    if amqp_ready; then
        echo " up"
        exit 0
    fi
    (( i % 5 == 0 )) && echo -n "${i}s " || echo -n "."
    sleep 1
done
echo
echo "ERROR: RabbitMQ did not accept AMQP on $HOST:$PORT within ${WAIT_SECONDS}s." >&2
echo "       Check /var/log/rabbitmq/ or run 'rabbitmq-server' in the foreground to see why." >&2
exit 1
