#!/bin/bash
# tests/vm/guest.sh: PID 1 of the test guest, started by the initramfs once
# the host's root file system is mounted over 9p. It gives the guest private
# /proc, /sys, /dev (with /dev/fd, /dev/shm, devpts), /tmp and /run, makes
# every module of the guest kernel loadable, then either serves jobs from the
# spool directory that tests/vm/vm.sh shares as "spool" (mode agent) or runs
# an interactive shell on the console (mode shell). It powers the guest off
# when done.
#
# Spool protocol (the host side is tests/vm/vm.sh): the host writes a job
# directory (argv and env NUL-separated, cwd, timeout) into new/ and renames
# it into jobs/. The agent claims it by renaming it into run/, runs it and
# writes out (stdout and stderr), then rc. A file cancel/ID asks it to stop a
# job; a file stop asks the agent to power off.
set -u

poweroff_now() {
    sync
    echo o >/proc/sysrq-trigger
    sleep 60
}

say() { echo "smcvm: $*" >/dev/console; }

# ------------------------------------------------------ private file systems
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mode=agent
modroot=""
idle_limit=3600
for word in $(</proc/cmdline); do
    case "$word" in
        smcvm.mode=*) mode=${word#smcvm.mode=} ;;
        smcvm.modroot=*) modroot=${word#smcvm.modroot=} ;;
        smcvm.idle=*) idle_limit=${word#smcvm.idle=} ;;
    esac
done

mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
ln -sfn pts/ptmx /dev/ptmx
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr
# Host directories under /tmp or /run that the guest must still see at the
# same path (a build or source tree there: smcvm.keep=DIR,DIR...) are put
# aside on the guest's /dev before the private /tmp and /run hide them.
keep_dirs=()
for word in $(</proc/cmdline); do
    case "$word" in smcvm.keep=*) IFS=, read -r -a keep_dirs <<<"${word#smcvm.keep=}" ;; esac
done
for i in "${!keep_dirs[@]}"; do
    mkdir -p "/dev/.smcvm-keep/$i"
    mount --bind "${keep_dirs[$i]}" "/dev/.smcvm-keep/$i" || say "cannot keep ${keep_dirs[$i]}"
done
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
for i in "${!keep_dirs[@]}"; do
    mkdir -p "${keep_dirs[$i]}"
    mount --move "/dev/.smcvm-keep/$i" "${keep_dirs[$i]}" || say "cannot keep ${keep_dirs[$i]}"
done
rm -rf /dev/.smcvm-keep
mkdir -p /run/lock /run/netns
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null || true
hostname smcvm 2>/dev/null || echo smcvm >/proc/sys/kernel/hostname
ip link set lo up 2>/dev/null || true

# --------------------------------------------------------------- modules
# The kernel's modules live in the host's cache (modroot/lib/modules/VER);
# the kernel asks this wrapper to load one on demand (ip link add ... type
# vrf, bridge, etc.), and the common ones are loaded up front.
if [ -n "$modroot" ] && [ -d "$modroot/lib/modules/$(uname -r)" ]; then
    helper=/run/smcvm-modprobe
    printf '#!/bin/sh\nexec /usr/sbin/modprobe -d %s "$@"\n' "$modroot" >"$helper"
    chmod 0755 "$helper"
    echo "$helper" >/proc/sys/kernel/modprobe
    for m in veth bridge macvlan dummy 8021q vrf; do
        "$helper" "$m" 2>/dev/null || say "cannot load module $m"
    done
else
    say "no modules for $(uname -r) under '$modroot'"
fi

# ------------------------------------------------------------------ shell
if [ "$mode" = shell ]; then
    say "interactive shell; 'exit' powers the guest off"
    cd /
    setsid -c bash -l </dev/ttyS0 >/dev/ttyS0 2>&1
    poweroff_now
fi

# ------------------------------------------------------------------ agent
S=/run/smcvm
mkdir -p "$S"
mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=262144 spool "$S" \
    || { say "cannot mount the spool"; poweroff_now; }
mkdir -p "$S/run" "$S/cancel"

# run_job ID: runs one claimed job; the pid of its timeout(1) goes to pid.
run_job() {
    local d=$S/run/$1 rc
    local -a argv envv
    mapfile -d '' argv <"$d/argv"
    mapfile -d '' envv <"$d/env"
    local cwd limit
    cwd=$(<"$d/cwd")
    limit=$(<"$d/timeout")
    (
        cd "$cwd" 2>/dev/null || cd /
        exec env -i "${envv[@]}" timeout -k 5 "$limit" "${argv[@]}"
    ) >"$d/out" 2>&1 </dev/null &
    echo $! >"$d/pid"
    wait $!
    rc=$?
    echo "$rc" >"$d/rc.tmp"
    mv "$d/rc.tmp" "$d/rc"
}

# An idle wait without forking: read with a timeout on a FIFO nobody writes.
mkfifo /run/smcvm-tick
exec {tick}<>/run/smcvm-tick

uname -r >"$S/ready.tmp"
mv "$S/ready.tmp" "$S/ready"

declare -A running=()
idle_since=$SECONDS
while [ ! -e "$S/stop" ]; do
    for job in "$S"/jobs/*; do
        [ -d "$job" ] || continue
        id=${job##*/}
        mv "$job" "$S/run/$id" 2>/dev/null || continue
        run_job "$id" &
        running[$id]=$!
    done
    for id in "${!running[@]}"; do
        if ! kill -0 "${running[$id]}" 2>/dev/null; then
            wait "${running[$id]}" 2>/dev/null
            unset "running[$id]"
            rm -f "$S/cancel/$id"
            idle_since=$SECONDS
        elif [ -e "$S/cancel/$id" ] && [ -s "$S/run/$id/pid" ]; then
            kill -TERM "$(<"$S/run/$id/pid")" 2>/dev/null
            rm -f "$S/cancel/$id"
        fi
    done
    if [ ${#running[@]} = 0 ] && (( SECONDS - idle_since > idle_limit )); then
        say "idle for ${idle_limit} s: powering off"
        break
    fi
    read -r -t 0.1 -u "$tick" _ || true
done

for id in "${!running[@]}"; do
    [ -s "$S/run/$id/pid" ] && kill -TERM "$(<"$S/run/$id/pid")" 2>/dev/null
done
poweroff_now
