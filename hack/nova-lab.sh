#!/usr/bin/env bash
# vmkeeper Nova lab: a real OpenStack (Zed, from Debian bookworm's packages) control plane
# with Nova's fake virt driver and several nova-compute hosts, all on 127.0.0.1, for the
# e2e and contract tests. See docs/nova-lab.md.
#
#   hack/nova-lab.sh up [--computes N]     install what is missing, start, wait, print env
#   hack/nova-lab.sh down [--purge]        stop every lab process by PID (--purge: drop data)
#   hack/nova-lab.sh status                processes, ports, nova-compute services
#   hack/nova-lab.sh env                   clouds.yaml path and OS_CLOUD exports (eval-able)
#   hack/nova-lab.sh logs [-f] [SERVICE]   list the logs, or tail one
#   hack/nova-lab.sh compute stop|kill|freeze|start N [--wait]
#                                          SIGTERM / SIGKILL / SIGSTOP / restart compute-N
#   hack/nova-lab.sh smoke                 boot, kill compute-1, force down, evacuate, restore
#
# Needs root on Debian bookworm (apt-get, and services run as root without systemd).
# Everything lives under the lab folder:
#   ${VMKEEPER_NOVA_LAB_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vmkeeper/nova-lab}
# Ports, passwords and timings are overridable through VMKEEPER_NOVA_LAB_* variables
# (defaults just below; the table is in docs/nova-lab.md).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SUPPORT="$HERE/nova-lab"
PY=/usr/bin/python3   # Debian's interpreter: a pyenv python3 on PATH cannot import OpenStack

LAB="${VMKEEPER_NOVA_LAB_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vmkeeper/nova-lab}"
ETC="$LAB/etc"
DATA="$LAB/data"
LOGS="$LAB/logs"
RUN="$LAB/run"
STATE="$LAB/state"
CLOUDS_YAML="$LAB/clouds.yaml"

MYSQL_PORT="${VMKEEPER_NOVA_LAB_MYSQL_PORT:-3306}"
EPMD_PORT="${VMKEEPER_NOVA_LAB_EPMD_PORT:-4369}"
RABBIT_PORT="${VMKEEPER_NOVA_LAB_RABBIT_PORT:-5672}"
RABBIT_DIST_PORT="${VMKEEPER_NOVA_LAB_RABBIT_DIST_PORT:-25672}"
KEYSTONE_PORT="${VMKEEPER_NOVA_LAB_KEYSTONE_PORT:-5000}"
PLACEMENT_PORT="${VMKEEPER_NOVA_LAB_PLACEMENT_PORT:-8778}"
GLANCE_PORT="${VMKEEPER_NOVA_LAB_GLANCE_PORT:-9292}"
NOVA_PORT="${VMKEEPER_NOVA_LAB_NOVA_PORT:-8774}"
NEUTRON_PORT="${VMKEEPER_NOVA_LAB_NEUTRON_PORT:-9696}"

ADMIN_PASSWORD="${VMKEEPER_NOVA_LAB_ADMIN_PASSWORD:-vmkeeper-lab-admin}"
DEMO_PASSWORD="${VMKEEPER_NOVA_LAB_DEMO_PASSWORD:-vmkeeper-lab-demo}"
SERVICE_PASSWORD="${VMKEEPER_NOVA_LAB_SERVICE_PASSWORD:-vmkeeper-lab-service}"
DB_USER=lab
DB_PASSWORD="${VMKEEPER_NOVA_LAB_DB_PASSWORD:-vmkeeper-lab-db}"
REGION=RegionOne

REPORT_INTERVAL="${VMKEEPER_NOVA_LAB_REPORT_INTERVAL:-5}"
SERVICE_DOWN_TIME="${VMKEEPER_NOVA_LAB_SERVICE_DOWN_TIME:-20}"
# 2, not Nova's 1: fake-driver computes report huge, near-identical capacity, so with 1 the
# weighers tie and concurrent boots and evacuations stack on one compute, which real computes'
# capacity would not do (docs/nova-lab.md, note 11). Tests that need a host pin it (2.74).
HOST_SUBSET_SIZE="${VMKEEPER_NOVA_LAB_HOST_SUBSET_SIZE:-2}"
NOVA_API_PROCESSES="${VMKEEPER_NOVA_LAB_NOVA_API_PROCESSES:-2}"
TIMEOUT="${VMKEEPER_NOVA_LAB_TIMEOUT:-180}"   # seconds, per wait
STOP_GRACE="${VMKEEPER_NOVA_LAB_STOP_GRACE:-10}"

PACKAGES=(mariadb-server rabbitmq-server keystone placement-api nova-api nova-conductor
  nova-scheduler glance-api)

DB_URL="mysql+pymysql://$DB_USER:$DB_PASSWORD@127.0.0.1:$MYSQL_PORT"
KEYSTONE_URL="http://127.0.0.1:$KEYSTONE_PORT/"

export VMKEEPER_NOVA_LAB_DIR="$LAB" VMKEEPER_NOVA_LAB_RUN="$RUN" VMKEEPER_NOVA_LAB_STATE="$STATE"
export VMKEEPER_NOVA_LAB_CLOUDS_YAML="$CLOUDS_YAML" VMKEEPER_NOVA_LAB_REGION="$REGION"
export VMKEEPER_NOVA_LAB_ADMIN_PASSWORD="$ADMIN_PASSWORD" VMKEEPER_NOVA_LAB_DEMO_PASSWORD="$DEMO_PASSWORD"
export VMKEEPER_NOVA_LAB_SERVICE_PASSWORD="$SERVICE_PASSWORD" VMKEEPER_NOVA_LAB_DB_PASSWORD="$DB_PASSWORD"
export VMKEEPER_NOVA_LAB_DB_USER="$DB_USER" VMKEEPER_NOVA_LAB_MYSQL_PORT="$MYSQL_PORT"
export VMKEEPER_NOVA_LAB_KEYSTONE_PORT="$KEYSTONE_PORT" VMKEEPER_NOVA_LAB_NOVA_PORT="$NOVA_PORT"
export VMKEEPER_NOVA_LAB_PLACEMENT_PORT="$PLACEMENT_PORT" VMKEEPER_NOVA_LAB_GLANCE_PORT="$GLANCE_PORT"
export VMKEEPER_NOVA_LAB_NEUTRON_PORT="$NEUTRON_PORT" VMKEEPER_NOVA_LAB_API_TIMEOUT="$TIMEOUT"

# ------------------------------------------------------------------ output, timing

T_START="${EPOCHREALTIME/./}"
T_PHASE="$T_START"
log() { printf 'nova-lab: %s\n' "$*"; }
die() { printf 'nova-lab: error: %s\n' "$*" >&2; exit 1; }
secs_since() { local now="${EPOCHREALTIME/./}"; printf '%d.%d' $(((now - $1) / 1000000)) $((((now - $1) % 1000000) / 100000)); }
phase() { # phase LABEL: print the time since the previous phase ended
  printf 'nova-lab: %-44s %6ss  (total %ss)\n' "$1" "$(secs_since "$T_PHASE")" "$(secs_since "$T_START")"
  T_PHASE="${EPOCHREALTIME/./}"
}

log_of() { # the log file of a service
  case "$1" in
    rabbitmq) echo "$LOGS/rabbitmq.log" ;;
    *) echo "$LOGS/$1.log" ;;
  esac
}

fail_service() { # fail_service NAME MESSAGE: name the service, show its log's tail, exit
  local name="$1" msg="$2" logf
  logf="$(log_of "$name")"
  printf 'nova-lab: error: %s: %s\n' "$name" "$msg" >&2
  if [[ -s "$logf" ]]; then
    printf 'nova-lab: last lines of %s:\n' "$logf" >&2
    tail -n 30 "$logf" | sed 's/^/    /' >&2
  fi
  if [[ "$name" == rabbitmq && -d "$LOGS/rabbitmq" ]]; then
    tail -n 15 "$LOGS"/rabbitmq/*.log 2>/dev/null | sed 's/^/    /' >&2 || true
  fi
  printf 'nova-lab: the other lab processes are left running; `%s down` stops them\n' "$0" >&2
  exit 1
}

# ------------------------------------------------------------------ processes by PID
# Every process is started in its own session (setsid), so its PID is also its process
# group id; the pid file holds "PID STARTTIME" (field 22 of /proc/PID/stat), so a PID
# reused by an unrelated process is never mistaken for ours.

# start time of a live (not zombie) process; PID 1 here may reap orphans late
start_time() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  # shellcheck disable=SC2086
  set -- $stat
  [[ "$1" != Z && "$1" != X ]] || return 1
  echo "${20}"
}

proc_start_epoch() { # wall-clock second a process started
  local up
  up="$(cut -d' ' -f1 /proc/uptime)"
  echo $(($(date +%s) - ${up%.*} + $(start_time "$1") / $(getconf CLK_TCK)))
}

pid_of() { # pid_of NAME: prints the PID if that lab process is alive
  local f="$RUN/$1.pid" pid st
  [[ -r "$f" ]] || return 1
  read -r pid st <"$f" || return 1
  [[ -n "$pid" && "$(start_time "$pid" 2>/dev/null)" == "$st" ]] || return 1
  echo "$pid"
}

spawn() { # spawn NAME COMMAND...: start detached, log to logs/NAME.log, record the PID
  local name="$1"; shift
  local pid
  setsid "$@" </dev/null >>"$(log_of "$name")" 2>&1 &
  pid=$!
  echo "$pid $(start_time "$pid")" >"$RUN/$name.pid"
}

group_alive() { # any live (non-zombie) process left in the session started as PID $1?
  ps -o stat= --sid "$1" 2>/dev/null | grep -qv '^Z'
}

stop_service() { # stop_service NAME [GRACE] [SIGNAL]: SIGTERM its group, SIGKILL after GRACE s
  local name="$1" grace="${2:-$STOP_GRACE}" sig="${3:-TERM}" pid i
  pid="$(pid_of "$name")" || { rm -f "$RUN/$name.pid"; return 0; }
  kill "-$sig" -- "-$pid" 2>/dev/null || kill "-$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    group_alive "$pid" || break
    sleep 0.1
  done
  if group_alive "$pid"; then
    log "$name (pid $pid) still running after ${grace}s: SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do group_alive "$pid" || break; sleep 0.1; done
  fi
  rm -f "$RUN/$name.pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_until() { # wait_until NAME TIMEOUT CHECK...: poll CHECK, fail fast if NAME's process died
  local name="$1" timeout="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  while ! "$@"; do
    pid_of "$name" >/dev/null || fail_service "$name" "the process exited while starting"
    ((SECONDS < deadline)) || fail_service "$name" "not ready within ${timeout}s (waiting for: $*)"
    sleep 0.2
  done
}

http_answers() { # any HTTP answer below 500 (401 means the API is up and wants a token)
  local code
  code="$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" 2>/dev/null)" || true
  [[ "$code" =~ ^[234] ]]
}

# ------------------------------------------------------------------ packages

missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do
    [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == "install ok installed" ]] || echo "$p"
  done
}

ensure_packages() {
  local missing
  missing="$(missing_packages)"
  if [[ -z "$missing" ]]; then phase "packages already installed"; return; fi
  [[ $EUID -eq 0 ]] || die "installing packages needs root (missing: $(echo $missing))"
  command -v apt-get >/dev/null || die "apt-get not found: the lab needs Debian bookworm"
  # No daemon may start on its own during installation (the lab starts its own copies).
  local policy=/usr/sbin/policy-rc.d own_policy=""
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; own_policy=1
  fi
  local aptlog="$LOGS/apt.log" rc=0
  log "installing: $(echo $missing) (log: $aptlog)"
  if ! compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null; then
    apt-get -o DPkg::Lock::Timeout=300 update >>"$aptlog" 2>&1 || rc=$?
  fi
  # shellcheck disable=SC2086
  if ((rc == 0)) && ! DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends \
      $missing >>"$aptlog" 2>&1; then
    rc=1
  fi
  if ((rc != 0)); then  # stale lists: update once and retry
    rc=0
    apt-get -o DPkg::Lock::Timeout=300 update >>"$aptlog" 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends $missing \
        >>"$aptlog" 2>&1 || rc=$?
  fi
  [[ -n "$own_policy" ]] && rm -f "$policy"
  ((rc == 0)) || { tail -n 20 "$aptlog" >&2; die "apt-get install failed (log: $aptlog)"; }
  phase "packages installed"
}

# ------------------------------------------------------------------ configuration

sed_escape() { printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'; }

render() { # render TEMPLATE OUT [NAME=VALUE...]: replace @NAME@ placeholders
  local tpl="$SUPPORT/templates/$1" out="$2"; shift 2
  local args=() kv
  for kv in LAB="$LAB" ETC="$ETC" DATA="$DATA" LOGS="$LOGS" RUN="$RUN" DB_URL="$DB_URL" \
      KEYSTONE_URL="$KEYSTONE_URL" SERVICE_PASSWORD="$SERVICE_PASSWORD" REGION="$REGION" \
      RABBIT_PORT="$RABBIT_PORT" NEUTRON_PORT="$NEUTRON_PORT" GLANCE_PORT="$GLANCE_PORT" \
      REPORT_INTERVAL="$REPORT_INTERVAL" SERVICE_DOWN_TIME="$SERVICE_DOWN_TIME" \
      HOST_SUBSET_SIZE="$HOST_SUBSET_SIZE" "$@"; do
    args+=(-e "s|@${kv%%=*}@|$(sed_escape "${kv#*=}")|g")
  done
  sed "${args[@]}" "$tpl" >"$out.tmp"
  chmod 600 "$out.tmp"
  mv "$out.tmp" "$out"
}

write_configs() {
  mkdir -p "$ETC"/{keystone,placement,glance,nova,uwsgi,rabbitmq} "$LOGS" "$RUN" "$STATE" \
    "$DATA"/{keystone/lock,placement/lock,glance/images,glance/staging,glance/tasks,glance/lock} \
    "$DATA"/{nova/instances,nova/lock,rabbitmq/home,rabbitmq/mnesia} "$LOGS/rabbitmq"
  chmod 700 "$LAB"
  render keystone.conf.in "$ETC/keystone/keystone.conf"
  render placement.conf.in "$ETC/placement/placement.conf"
  render glance-api.conf.in "$ETC/glance/glance-api.conf"
  render nova.conf.in "$ETC/nova/nova.conf"
  cp /etc/nova/api-paste.ini "$ETC/nova/api-paste.ini"
  cp /etc/glance/glance-api-paste.ini "$ETC/glance/glance-api-paste.ini"
  render uwsgi.ini.in "$ETC/uwsgi/keystone.ini" NAME=keystone PORT="$KEYSTONE_PORT" \
    WSGI_FILE=/usr/bin/keystone-wsgi-public PROCESSES=1 THREADS=8 \
    ENV="OS_KEYSTONE_CONFIG_DIR=$ETC/keystone"
  render uwsgi.ini.in "$ETC/uwsgi/placement-api.ini" NAME=placement-api PORT="$PLACEMENT_PORT" \
    WSGI_FILE=/usr/bin/placement-api PROCESSES=1 THREADS=4 \
    ENV="OS_PLACEMENT_CONFIG_DIR=$ETC/placement"
  # nova-api monkey-patches eventlet: one thread per process, as Debian's own ini does
  render uwsgi.ini.in "$ETC/uwsgi/nova-api.ini" NAME=nova-api PORT="$NOVA_PORT" \
    WSGI_FILE=/usr/bin/nova-api-wsgi PROCESSES="$NOVA_API_PROCESSES" THREADS=1 \
    ENV="OS_NOVA_CONFIG_DIR=$ETC/nova"
  printf '# vmkeeper Nova lab: read instead of /etc/rabbitmq/rabbitmq-env.conf\n' \
    >"$ETC/rabbitmq/rabbitmq-env.conf"
  printf '[].\n' >"$ETC/rabbitmq/enabled_plugins"
  cat >"$ETC/rabbitmq/rabbitmq.conf" <<EOF
# vmkeeper Nova lab (rendered by hack/nova-lab.sh)
listeners.tcp.default = 127.0.0.1:$RABBIT_PORT
log.file.level = info
EOF
}

write_compute_config() { # write_compute_config N
  mkdir -p "$DATA/compute-$1/instances" "$DATA/compute-$1/lock"
  render nova-compute.conf.in "$ETC/nova/compute-$1.conf" COMPUTE_HOST="compute-$1"
}

# Initialisation steps run once per data folder; a stamp records the package versions and
# settings they depended on, so an upgrade or a port change reruns them.
versions() { dpkg-query -W -f='${Package}=${Version} ' "${PACKAGES[@]}" 2>/dev/null; }
stamp_value() { printf '%s|%s' "$(versions)" "$*" | sha256sum | cut -c1-16; }
stamp_ok() { [[ -f "$STATE/$1.stamp" && "$(cat "$STATE/$1.stamp")" == "$(stamp_value "${@:2}")" ]]; }
stamp_set() { stamp_value "${@:2}" >"$STATE/$1.stamp"; }

# ------------------------------------------------------------------ services

start_mariadb() {
  pid_of mariadb >/dev/null && return 0
  if [[ ! -d "$DATA/mysql/mysql" ]]; then
    rm -rf "$DATA/mysql"
    mariadb-install-db --no-defaults --user=root --datadir="$DATA/mysql" \
      --auth-root-authentication-method=socket --skip-test-db >>"$LOGS/mariadb.log" 2>&1 ||
      fail_service mariadb "mariadb-install-db failed"
  fi
  # lab settings: no binary log and relaxed flushing make the schema syncs much faster
  spawn mariadb mariadbd --no-defaults --user=root --datadir="$DATA/mysql" \
    --socket="$RUN/mysqld.sock" --pid-file="$RUN/mysqld.pidfile" \
    --bind-address=127.0.0.1 --port="$MYSQL_PORT" --skip-name-resolve \
    --max-connections=1000 --innodb-buffer-pool-size=128M \
    --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --sync-binlog=0 \
    --skip-log-bin --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci
}

mariadb_ready() { mariadb-admin --no-defaults --socket="$RUN/mysqld.sock" -uroot ping >/dev/null 2>&1; }

setup_databases() {
  local db sql="" pw
  pw="$(printf '%s' "$DB_PASSWORD" | sed "s/'/''/g")"
  for db in keystone placement glance nova_api nova nova_cell0; do
    sql+="CREATE DATABASE IF NOT EXISTS $db;"
  done
  for host in 127.0.0.1 localhost; do
    sql+="CREATE USER IF NOT EXISTS '$DB_USER'@'$host' IDENTIFIED BY '$pw';"
    sql+="ALTER USER '$DB_USER'@'$host' IDENTIFIED BY '$pw';"
    sql+="GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'$host';"
  done
  mariadb --no-defaults --socket="$RUN/mysqld.sock" -uroot -e "$sql" >>"$LOGS/mariadb.log" 2>&1 ||
    fail_service mariadb "creating the lab databases failed"
}

rabbit_env() { # the environment RabbitMQ runs with (own HOME, mnesia, logs; loopback only)
  RABBIT_ENV=(env HOME="$DATA/rabbitmq/home"
    RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    RABBITMQ_NODE_PORT="$RABBIT_PORT" RABBITMQ_DIST_PORT="$RABBIT_DIST_PORT"
    RABBITMQ_MNESIA_BASE="$DATA/rabbitmq/mnesia" RABBITMQ_LOG_BASE="$LOGS/rabbitmq"
    RABBITMQ_CONF_ENV_FILE="$ETC/rabbitmq/rabbitmq-env.conf"
    RABBITMQ_CONFIG_FILE="$ETC/rabbitmq/rabbitmq.conf"
    RABBITMQ_ENABLED_PLUGINS_FILE="$ETC/rabbitmq/enabled_plugins"
    RABBITMQ_PID_FILE="$RUN/rabbitmq.erlpid"
    ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT="$EPMD_PORT"
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}")
}

start_rabbitmq() {
  if ! pid_of epmd >/dev/null; then
    port_open "$EPMD_PORT" && die "port $EPMD_PORT (epmd) is taken by a process that is not the lab's"
    spawn epmd env ERL_EPMD_ADDRESS=127.0.0.1 epmd -address 127.0.0.1 -port "$EPMD_PORT"
  fi
  pid_of rabbitmq >/dev/null && return 0
  wait_until epmd 10 port_open "$EPMD_PORT"
  # the /usr/sbin wrapper switches to the rabbitmq user: run the real script as root
  rabbit_env
  spawn rabbitmq "${RABBIT_ENV[@]}" /usr/lib/rabbitmq/bin/rabbitmq-server
}

init_databases() { # schema syncs, in parallel; each only once per data folder and version
  local jobs=() names=() i rc failed=""
  if ! stamp_ok keystone "$KEYSTONE_PORT" "$ADMIN_PASSWORD"; then
    (
      set -e
      km() { keystone-manage --config-file "$ETC/keystone/keystone.conf" "$@"; }
      km db_sync
      km fernet_setup --keystone-user root --keystone-group root
      km credential_setup --keystone-user root --keystone-group root
      km bootstrap --bootstrap-password "$ADMIN_PASSWORD" --bootstrap-username admin \
        --bootstrap-project-name admin --bootstrap-role-name admin \
        --bootstrap-service-name keystone --bootstrap-region-id "$REGION" \
        --bootstrap-admin-url "${KEYSTONE_URL}v3/" --bootstrap-internal-url "${KEYSTONE_URL}v3/" \
        --bootstrap-public-url "${KEYSTONE_URL}v3/"
    ) >>"$LOGS/init-keystone.log" 2>&1 &
    jobs+=($!); names+=(keystone)
  fi
  if ! stamp_ok placement; then
    placement-manage --config-file "$ETC/placement/placement.conf" db sync \
      >>"$LOGS/init-placement.log" 2>&1 &
    jobs+=($!); names+=(placement)
  fi
  if ! stamp_ok glance; then
    glance-manage --config-file "$ETC/glance/glance-api.conf" --log-file "$LOGS/init-glance.log" \
      db_sync >>"$LOGS/init-glance.log" 2>&1 &
    jobs+=($!); names+=(glance)
  fi
  if ! stamp_ok nova; then
    (
      set -e
      nm() { nova-manage --config-file "$ETC/nova/nova.conf" "$@"; }
      nm api_db sync
      nm cell_v2 map_cell0 --database_connection "$DB_URL/nova_cell0"
      cells="$(nm cell_v2 list_cells)"
      [[ "$cells" == *" cell1 "* ]] || nm cell_v2 create_cell --name=cell1 --verbose
      nm db sync
    ) >>"$LOGS/init-nova.log" 2>&1 &
    jobs+=($!); names+=(nova)
  fi
  ((${#jobs[@]} > 0)) || return 0
  for i in "${!jobs[@]}"; do
    rc=0; wait "${jobs[$i]}" || rc=$?
    if ((rc == 0)); then
      case "${names[$i]}" in
        keystone) stamp_set keystone "$KEYSTONE_PORT" "$ADMIN_PASSWORD" ;;
        *) stamp_set "${names[$i]}" ;;
      esac
    else
      failed+="${names[$i]} "
    fi
  done
  if [[ -n "$failed" ]]; then
    for i in $failed; do
      printf 'nova-lab: last lines of %s:\n' "$LOGS/init-$i.log" >&2
      tail -n 25 "$LOGS/init-$i.log" | sed 's/^/    /' >&2
    done
    die "database initialisation failed for: $failed"
  fi
  phase "schemas synced (${names[*]})"
}

start_uwsgi() { # start_uwsgi NAME
  pid_of "$1" >/dev/null && return 0
  spawn "$1" uwsgi --ini "$ETC/uwsgi/$1.ini"
}

start_python_service() { # start_python_service NAME COMMAND...
  local name="$1"; shift
  pid_of "$name" >/dev/null && return 0
  spawn "$name" "$@"
}

start_compute() { # start_compute N
  local name="compute-$1"
  pid_of "$name" >/dev/null && return 0
  write_compute_config "$1"
  # python3-nova ships no nova-compute script: call its entry point; -P keeps the
  # working directory off sys.path
  spawn "$name" "$PY" -P -c 'import sys; from nova.cmd.compute import main; sys.exit(main())' \
    --config-file "$ETC/nova/nova.conf" --config-file "$ETC/nova/$name.conf" \
    --log-file "$LOGS/$name.log"
}

running_computes() { # names of compute-N with a pid file
  local f
  for f in "$RUN"/compute-*.pid; do
    [[ -e "$f" ]] || continue
    f="${f##*/}"; echo "${f%.pid}"
  done | sort -t- -k2 -n
}

check_ports_free() { # refuse to start over someone else's server
  local name port
  for spec in mariadb:$MYSQL_PORT rabbitmq:$RABBIT_PORT rabbitmq:$RABBIT_DIST_PORT \
      keystone:$KEYSTONE_PORT placement-api:$PLACEMENT_PORT glance-api:$GLANCE_PORT \
      nova-api:$NOVA_PORT neutron-stub:$NEUTRON_PORT; do
    name="${spec%%:*}"; port="${spec#*:}"
    if ! pid_of "$name" >/dev/null && port_open "$port"; then
      die "port $port ($name) is in use by a process that is not the lab's; set VMKEEPER_NOVA_LAB_*_PORT (see docs/nova-lab.md)"
    fi
  done
}

bootstrap() { "$PY" -P "$SUPPORT/bootstrap.py" "$@"; }

bootstrap_or_fail() {
  local rc=0 svc
  rm -f "$RUN/failed-service"
  bootstrap "$@" || rc=$?
  if ((rc != 0)); then
    svc="$(cat "$RUN/failed-service" 2>/dev/null || true)"
    [[ -n "$svc" ]] && fail_service "$svc" "see the error above"
    die "bootstrap $1 failed"
  fi
}

# ------------------------------------------------------------------ commands

cmd_up() {
  local computes=3 i
  while (($#)); do
    case "$1" in
      --computes) computes="${2:?--computes needs a number}"; shift 2 ;;
      --computes=*) computes="${1#*=}"; shift ;;
      *) die "up: unknown option $1" ;;
    esac
  done
  [[ "$computes" =~ ^[1-9][0-9]*$ ]] || die "up: --computes must be a positive number"
  [[ -x "$PY" ]] || die "$PY not found (Debian's python3 is required)"
  mkdir -p "$LOGS" "$RUN" "$STATE"
  log "lab folder: $LAB"
  ensure_packages
  write_configs
  check_ports_free

  start_mariadb
  start_rabbitmq
  wait_until mariadb 60 mariadb_ready
  setup_databases
  phase "mariadb ready"
  init_databases

  # the APIs first; the Nova daemons authenticate to Placement as soon as they start, so
  # they wait for Keystone's service users
  start_python_service neutron-stub "$PY" -P "$SUPPORT/neutron_stub.py" --port "$NEUTRON_PORT"
  start_uwsgi keystone
  start_uwsgi placement-api
  start_python_service glance-api glance-api --config-file "$ETC/glance/glance-api.conf"
  start_uwsgi nova-api
  wait_until neutron-stub 30 port_open "$NEUTRON_PORT"
  wait_until keystone "$TIMEOUT" http_answers "http://127.0.0.1:$KEYSTONE_PORT/v3"
  phase "keystone ready"
  local entities=("$KEYSTONE_PORT" "$NOVA_PORT" "$PLACEMENT_PORT" "$GLANCE_PORT" "$NEUTRON_PORT"
    "$SERVICE_PASSWORD" "$DEMO_PASSWORD")
  if ! stamp_ok keystone-entities "${entities[@]}"; then
    bootstrap_or_fail keystone
    stamp_set keystone-entities "${entities[@]}"
    phase "keystone users, projects, catalog"
  fi
  wait_until rabbitmq "$TIMEOUT" port_open "$RABBIT_PORT"
  phase "rabbitmq ready"
  start_python_service nova-conductor nova-conductor --config-file "$ETC/nova/nova.conf" \
    --log-file "$LOGS/nova-conductor.log"
  start_python_service nova-scheduler nova-scheduler --config-file "$ETC/nova/nova.conf" \
    --log-file "$LOGS/nova-scheduler.log"
  for ((i = 1; i <= computes; i++)); do start_compute "$i"; done
  local extra
  for extra in $(running_computes); do
    if ((${extra#compute-} > computes)); then log "stopping $extra (--computes $computes)"; stop_service "$extra"; fi
  done
  echo "$computes" >"$STATE/computes"

  wait_until placement-api "$TIMEOUT" http_answers "http://127.0.0.1:$PLACEMENT_PORT/"
  wait_until glance-api "$TIMEOUT" http_answers "http://127.0.0.1:$GLANCE_PORT/versions"
  wait_until nova-api "$TIMEOUT" http_answers "http://127.0.0.1:$NOVA_PORT/"
  for i in nova-conductor nova-scheduler; do pid_of "$i" >/dev/null || fail_service "$i" "not running"; done
  phase "placement, glance, nova-api answer"
  # flavors, image, application credential, clouds.yaml, then the computes: one process
  bootstrap_or_fail finish "$computes" "$TIMEOUT"
  phase "resources ready, $computes computes up and mapped"
  printf 'nova-lab: up in %ss. Use it with:\n' "$(secs_since "$T_START")"
  cmd_env | sed 's/^/    /'
}

stop_many() { # stop_many GRACE NAME...: SIGTERM all at once, SIGKILL whatever is left
  local grace="$1"; shift
  local name pid i left pids=() names=() t0="${EPOCHREALTIME/./}"
  for name in "$@"; do
    if pid="$(pid_of "$name")"; then
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid"); names+=("$name")
    fi
    rm -f "$RUN/$name.pid"
  done
  ((${#pids[@]} > 0)) || return 0
  for ((i = 0; i < grace * 10; i++)); do
    left=0
    for pid in "${pids[@]}"; do group_alive "$pid" && left=1 && break; done
    ((left)) || break
    sleep 0.1
  done
  for i in "${!pids[@]}"; do
    if group_alive "${pids[$i]}"; then
      log "${names[$i]} (pid ${pids[$i]}) still running after ${grace}s: SIGKILL"
      kill -KILL -- "-${pids[$i]}" 2>/dev/null || kill -KILL "${pids[$i]}" 2>/dev/null || true
    fi
  done
  log "stopped ${names[*]} ($(secs_since "$t0")s)"
}

cmd_down() {
  local purge=""
  [[ "${1:-}" == "--purge" ]] && purge=1
  if [[ -d "$RUN" ]]; then
    # the OpenStack services together (nova-compute may take seconds to shut down
    # gracefully), then the message bus, then the database
    # shellcheck disable=SC2046
    stop_many "$STOP_GRACE" $(running_computes) nova-scheduler nova-conductor nova-api \
      glance-api placement-api keystone neutron-stub
    stop_many 20 rabbitmq
    stop_many 5 epmd
    stop_many 30 mariadb
  else
    log "nothing to stop ($LAB has no run folder)"
  fi
  if [[ -n "$purge" ]]; then
    rm -rf "$DATA" "$STATE" "$RUN" "$ETC" "$LOGS" "$CLOUDS_YAML"
    log "removed the lab's data, state, configuration and logs under $LAB"
  fi
  phase "down"
}

cmd_status() {
  local name pid port rc=0 expected computes
  computes="$(cat "$STATE/computes" 2>/dev/null || echo 3)"
  printf '%-16s %-8s %-8s %s\n' SERVICE PID STATE ENDPOINT
  for name in mariadb epmd rabbitmq neutron-stub keystone placement-api glance-api nova-api \
      nova-conductor nova-scheduler $(for ((i = 1; i <= computes; i++)); do echo "compute-$i"; done); do
    case "$name" in
      mariadb) port="127.0.0.1:$MYSQL_PORT" ;; epmd) port="127.0.0.1:$EPMD_PORT" ;;
      rabbitmq) port="127.0.0.1:$RABBIT_PORT" ;; neutron-stub) port="http://127.0.0.1:$NEUTRON_PORT" ;;
      keystone) port="http://127.0.0.1:$KEYSTONE_PORT/v3" ;;
      placement-api) port="http://127.0.0.1:$PLACEMENT_PORT" ;;
      glance-api) port="http://127.0.0.1:$GLANCE_PORT" ;;
      nova-api) port="http://127.0.0.1:$NOVA_PORT/v2.1" ;;
      *) port="-" ;;
    esac
    if pid="$(pid_of "$name")"; then
      printf '%-16s %-8s %-8s %s\n' "$name" "$pid" running "$port"
    else
      printf '%-16s %-8s %-8s %s\n' "$name" - stopped "$port"; rc=3
    fi
  done
  if pid_of nova-api >/dev/null && pid_of keystone >/dev/null; then
    echo; echo "nova-compute services (Nova's view):"
    bootstrap services || true
  fi
  [[ -f "$CLOUDS_YAML" ]] && { echo; echo "clouds.yaml: $CLOUDS_YAML"; }
  return "$rc"
}

cmd_env() {
  [[ -f "$CLOUDS_YAML" ]] || { echo "nova-lab: no clouds.yaml yet; run: $0 up" >&2; return 1; }
  printf '# vmkeeper Nova lab; clouds: vmkeeper-lab (admin), vmkeeper-lab-demo%s\n' \
    "$(grep -q 'vmkeeper-lab-appcred:' "$CLOUDS_YAML" && echo ', vmkeeper-lab-appcred')"
  printf 'export OS_CLIENT_CONFIG_FILE=%q\n' "$CLOUDS_YAML"
  printf 'export OS_CLOUD=vmkeeper-lab\n'
}

cmd_logs() {
  local follow=""
  [[ "${1:-}" == "-f" ]] && { follow=1; shift; }
  if [[ -z "${1:-}" ]]; then
    echo "logs in $LOGS:"
    ls -lh "$LOGS" 2>/dev/null | awk 'NR > 1 { printf "  %-28s %s\n", $9, $5 }'
    echo "show one: $0 logs [-f] SERVICE   (e.g. nova-api, compute-1, rabbitmq)"
    return 0
  fi
  local f
  f="$(log_of "$1")"
  [[ -f "$f" ]] || f="$LOGS/$1"
  [[ -f "$f" ]] || die "no log for '$1' in $LOGS"
  if [[ -n "$follow" ]]; then exec tail -n 50 -F "$f"; fi
  tail -n "${VMKEEPER_NOVA_LAB_LOG_LINES:-100}" "$f"
  if [[ "$1" == rabbitmq ]]; then tail -n 30 "$LOGS"/rabbitmq/*.log 2>/dev/null || true; fi
}

cmd_compute() {
  local action="${1:-}" n="${2:-}" wait_flag="${3:-}"
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "usage: $0 compute stop|kill|freeze|start N [--wait]"
  local name="compute-$n" pid
  case "$action" in
    stop)
      pid="$(pid_of "$name")" || { log "$name is not running"; return 0; }
      stop_service "$name" 30
      log "stopped $name (pid $pid, SIGTERM)" ;;
    kill)
      pid="$(pid_of "$name")" || { log "$name is not running"; return 0; }
      stop_service "$name" 5 KILL
      log "killed $name (pid $pid, SIGKILL)" ;;
    freeze)
      # A hung host cut off from the management network: its processes still exist (and, on
      # a real host, its VMs still run) but nothing answers. Only power fencing (or
      # `compute kill N`) ends it.
      pid="$(pid_of "$name")" || { log "$name is not running"; return 0; }
      kill -STOP -- "-$pid" 2>/dev/null || kill -STOP "$pid"
      log "froze $name (pid $pid, SIGSTOP)" ;;
    start)
      pid_of mariadb >/dev/null && pid_of rabbitmq >/dev/null ||
        die "the lab is not running; use: $0 up"
      if pid="$(pid_of "$name")"; then log "$name already running (pid $pid)"; else
        start_compute "$n"
        log "started $name (pid $(pid_of "$name"))"
      fi
      if [[ "$wait_flag" == --wait ]]; then
        # Nova still calls a just-stopped host up until service_down_time has passed, so
        # wait for a heartbeat written after this start
        bootstrap_or_fail wait-compute "$name" "$(proc_start_epoch "$(pid_of "$name")")" "$TIMEOUT"
      fi ;;
    *) die "usage: $0 compute stop|kill|freeze|start N [--wait]" ;;
  esac
}

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    env) cmd_env "$@" ;;
    logs) cmd_logs "$@" ;;
    compute) cmd_compute "$@" ;;
    smoke) VMKEEPER_NOVA_LAB_SCRIPT="$HERE/nova-lab.sh" exec "$PY" -P "$SUPPORT/smoke.py" ;;
    -h|--help|help|"") usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
