#!/bin/bash
# tests/vm/vm.sh: runs commands as root inside a QEMU guest that boots a
# stock Debian kernel (one that can route IPv4 and IPv6 multicast), for hosts
# whose own kernel cannot. The host's root file system is shared into the
# guest over 9p, so the build tree, tools and scripts are used as they are;
# the guest has its own /proc, /sys, /dev, /tmp and /run. Everything it needs
# comes from Debian's package archive: qemu-system-x86, busybox-static, cpio
# and kmod are installed when missing, the kernel package is fetched with
# `apt-get download` into a cache directory, and the initramfs is built here.
#
#   vm.sh [OPTIONS] run [--] CMD...    boot, run CMD as root, power off;
#                                      exits with CMD's status
#   vm.sh [OPTIONS] shell              interactive root shell on the console
#   vm.sh [OPTIONS] start DIR          boot a guest that serves jobs from DIR
#   vm.sh exec DIR [--timeout S] [--] CMD...
#                                      run CMD in the guest started on DIR
#   vm.sh stop DIR                     power that guest off
#   vm.sh [OPTIONS] prepare            fetch the kernel, build the initramfs
#
# OPTIONS (or the environment variable in brackets):
#   --kernel 6.1|6.12|PACKAGE  [SMCROUTE_VM_KERNEL]  default 6.1: Debian 12's
#                              linux-image-amd64; 6.12: linux-image-6.12-amd64
#   --accel auto|kvm|tcg       [SMCROUTE_VM_ACCEL]   auto: KVM when /dev/kvm
#                              boots the guest, software emulation otherwise
#   --mem MIB                  [SMCROUTE_VM_MEM]     default 4096
#   --cpus N                   [SMCROUTE_VM_CPUS]    default: the host's cores
# Also: SMCROUTE_VM_CACHE (default /var/cache/smcroute-vm),
# SMCROUTE_VM_BOOT_TIMEOUT (seconds, default 300), SMCROUTE_VM_STAGE2 (the
# guest's PID 1 script, default tests/vm/guest.sh; for the runner's own test),
# SMCROUTE_VM_KEEP (directories under /tmp or /run the guest must see; this
# source tree and the working directory always are).
#
# The command runs with the caller's environment and working directory. Its
# output is streamed back; exit status 124 means its time limit ran out.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${SMCROUTE_VM_CACHE:-/var/cache/smcroute-vm}
KERNEL=${SMCROUTE_VM_KERNEL:-6.1}
ACCEL=${SMCROUTE_VM_ACCEL:-auto}
MEM=${SMCROUTE_VM_MEM:-4096}
CPUS=${SMCROUTE_VM_CPUS:-$(nproc)}
BOOT_TIMEOUT=${SMCROUTE_VM_BOOT_TIMEOUT:-300}
STAGE2=${SMCROUTE_VM_STAGE2:-$HERE/guest.sh}
KVM_BOOT_TIMEOUT=60
MODULES_INITRD="virtio_pci 9pnet_virtio 9p"

die() { echo "vm.sh: $*" >&2; exit 1; }
note() { echo "vm.sh: $*" >&2; }

usage() {
    sed -n '/^#   vm.sh/,/^# The command runs/p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# ---------------------------------------------------------------- host tools

ensure_host_tools() {
    local need=() pkg
    for pkg in qemu-system-x86 busybox-static cpio kmod; do
        dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
    done
    [ ${#need[@]} = 0 ] && return 0
    [ "$(id -u)" = 0 ] || die "needs ${need[*]} (apt-get install -y ${need[*]}, as root)"
    note "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 \
        || { apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; } \
        || die "cannot install ${need[*]}"
}

# ------------------------------------------------------------------ kernel

# kernel_package SERIES: the linux-image package to boot.
kernel_package() {
    local meta
    case "$1" in
        6.1) meta=linux-image-amd64 ;;
        6.12) meta=linux-image-6.12-amd64 ;;
        linux-image-[0-9]*-amd64) echo "$1"; return 0 ;;
        linux-image-*) meta=$1 ;;
        *) die "unknown kernel '$1' (6.1, 6.12 or a linux-image-* package)" ;;
    esac
    local pkg
    pkg=$(apt-cache depends "$meta" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n 1)
    if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then
        apt-get update -qq >/dev/null 2>&1 || true
        pkg=$(apt-cache depends "$meta" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n 1)
    fi
    if [ -z "$pkg" ]; then
        # Offline: the newest kernel of that series already in the cache.
        local series=$1
        pkg=$(ls -1 "$CACHE" 2>/dev/null | grep -E "^linux-image-${series//./\\.}[.-].*-amd64\$" | sort -V | tail -n 1 || true)
    fi
    [ -n "$pkg" ] || die "cannot find the kernel package behind $meta (no package lists? run apt-get update)"
    echo "$pkg"
}

# prepare PACKAGE: fetch and unpack the kernel and build the initramfs into
# $CACHE/PACKAGE once; sets KDIR, KVER.
prepare() {
    local pkg=$1
    KDIR=$CACHE/$pkg
    mkdir -p "$CACHE"
    exec {lockfd}>"$CACHE/.lock"
    flock "$lockfd"
    local stamp
    stamp=$(cat "$HERE/initramfs-init.sh" "$0" | md5sum | cut -d' ' -f1)
    if [ ! -f "$KDIR/initrd.img" ] || [ "$(cat "$KDIR/stamp" 2>/dev/null)" != "$stamp" ]; then
        if [ ! -f "$KDIR/vmlinuz" ]; then
            note "fetching $pkg"
            local tmp
            tmp=$(mktemp -d "$CACHE/.fetch.XXXXXX")
            (cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1) \
                || { rm -rf "$tmp"; die "apt-get download $pkg failed"; }
            mkdir -p "$tmp/root"
            dpkg-deb -x "$tmp"/*.deb "$tmp/root"
            local ver
            ver=$(ls "$tmp/root/lib/modules")
            depmod -b "$tmp/root" "$ver"
            rm -rf "$KDIR"
            mkdir -p "$KDIR"
            mv "$tmp/root/boot/vmlinuz-$ver" "$KDIR/vmlinuz"
            mkdir -p "$KDIR/root/lib"
            mv "$tmp/root/lib/modules" "$KDIR/root/lib/modules"
            echo "$ver" >"$KDIR/release"
            rm -rf "$tmp"
        fi
        build_initrd "$KDIR"
        echo "$stamp" >"$KDIR/stamp"
    fi
    KVER=$(cat "$KDIR/release")
    flock -u "$lockfd"
}

# build_initrd KDIR: busybox, /init and the modules that mount the host's
# root, in the order modprobe would load them.
build_initrd() {
    local kdir=$1 ver stage mod
    ver=$(cat "$kdir/release")
    stage=$(mktemp -d)
    mkdir -p "$stage/bin" "$stage/modules"
    cp /bin/busybox "$stage/bin/busybox"
    cp "$HERE/initramfs-init.sh" "$stage/init"
    chmod 0755 "$stage/init"
    : >"$stage/modules.list"
    # shellcheck disable=SC2086
    modprobe -d "$kdir/root" -S "$ver" --show-depends -a $MODULES_INITRD \
        | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' \
        | while read -r mod; do
            cp "$mod" "$stage/modules/"
            basename "$mod" >>"$stage/modules.list"
        done
    [ -s "$stage/modules.list" ] || die "no modules found for $MODULES_INITRD in $kdir"
    (cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$kdir/initrd.img.tmp"
    mv "$kdir/initrd.img.tmp" "$kdir/initrd.img"
    rm -rf "$stage"
}

# ------------------------------------------------------------------- boot

kvm_usable() {
    [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]
}

# keep_list: the directories under /tmp or /run (private in the guest) that
# the guest must see: this source tree, the working directory and
# SMCROUTE_VM_KEEP (colon-separated), as "smcvm.keep=A,B" or nothing.
keep_list() {
    local -a dirs=() out=()
    local d k inner
    IFS=: read -r -a dirs <<<"${SMCROUTE_VM_KEEP:-}"
    dirs+=("$(cd "$HERE/../.." && pwd -P)" "$(pwd -P)" "$CACHE")
    for d in "${dirs[@]}"; do
        [ -n "$d" ] && [ -d "$d" ] || continue
        d=$(cd "$d" && pwd -P)
        case "$d" in /tmp/*|/run/*) ;; *) continue ;; esac
        case "$d" in *[,\ ]*) die "cannot share $d with the guest (comma or space in its path)" ;; esac
        inner=0
        for k in "${out[@]}"; do
            case "$d/" in "$k"/*) inner=1 ;; esac
        done
        [ "$inner" = 1 ] || out+=("$d")
    done
    [ ${#out[@]} = 0 ] || (IFS=,; echo "smcvm.keep=${out[*]}")
}

# launch DIR ACCEL MODE: start qemu; MODE agent daemonizes, shell runs on
# the terminal.
launch() {
    local dir=$1 accel=$2 mode=$3
    local -a cmd=(qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot
        -smp "$CPUS" -m "$MEM"
        -kernel "$KDIR/vmlinuz" -initrd "$KDIR/initrd.img"
        -append "console=ttyS0 loglevel=4 panic=-1 mitigations=off smcvm.stage2=$STAGE2 smcvm.mode=$mode smcvm.modroot=$KDIR/root $(keep_list)"
        -virtfs "local,path=/,mount_tag=hostroot,security_model=passthrough,multidevs=remap"
        -device virtio-rng-pci)
    if [ "$accel" = kvm ]; then
        cmd+=(-accel kvm -cpu host)
    else
        cmd+=(-accel tcg,thread=multi -cpu "${SMCROUTE_VM_CPU:-max}")
    fi
    if [ "$mode" = shell ]; then
        cmd+=(-serial mon:stdio)
        "${cmd[@]}"
        return
    fi
    cmd+=(-virtfs "local,path=$dir,mount_tag=spool,security_model=passthrough"
        -serial "file:$dir/console.log" -pidfile "$dir/qemu.pid" -daemonize)
    "${cmd[@]}" >"$dir/qemu.log" 2>&1
}

qemu_alive() {
    local pid
    pid=$(cat "$1/qemu.pid" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

kill_qemu() {
    local pid
    pid=$(cat "$1/qemu.pid" 2>/dev/null) || return 0
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
    rm -f "$1/qemu.pid"
}

# wait_ready DIR SECONDS: until the guest's agent says it is up.
wait_ready() {
    local dir=$1 limit=$2 start=$SECONDS
    while (( SECONDS - start < limit )); do
        [ -f "$dir/ready" ] && return 0
        qemu_alive "$dir" || return 1
        sleep 0.1
    done
    return 1
}

console_tail() {
    echo "---- guest console (last lines of $1/console.log) ----" >&2
    tail -n 25 "$1/console.log" >&2 2>/dev/null || true
    [ -s "$1/qemu.log" ] && { echo "---- qemu ----" >&2; cat "$1/qemu.log" >&2; }
    echo "------------------------------------------------------" >&2
}

cmd_start() {
    local dir=$1
    ensure_host_tools
    local pkg
    pkg=$(kernel_package "$KERNEL")
    prepare "$pkg"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    # A guest left over from an interrupted run on the same directory.
    kill_qemu "$dir"
    rm -rf "${dir:?}"/{new,jobs,run,cancel,ready,stop,info,console.log,qemu.log}
    mkdir -p "$dir/new" "$dir/jobs" "$dir/run" "$dir/cancel"
    local accel=$ACCEL started=$SECONDS
    if [ "$accel" = auto ]; then
        accel=tcg
        kvm_usable && accel=kvm
    fi
    if [ "$accel" = kvm ]; then
        if launch "$dir" kvm agent && wait_ready "$dir" "$KVM_BOOT_TIMEOUT"; then
            :
        elif [ "$ACCEL" = auto ] && ! grep -q '^smcvm:' "$dir/console.log" 2>/dev/null; then
            # The guest never reached its initramfs: KVM is there but does
            # not run it (seen on some nested hosts).
            note "/dev/kvm did not boot the guest; using software emulation"
            console_tail "$dir" 2>"$dir/kvm-attempt.log" || true
            kill_qemu "$dir"
            rm -f "$dir/console.log" "$dir/qemu.log"
            accel=tcg
        else
            console_tail "$dir"
            kill_qemu "$dir"
            die "the guest did not come up with KVM"
        fi
    fi
    if [ "$accel" = tcg ]; then
        launch "$dir" tcg agent || { console_tail "$dir"; die "qemu did not start"; }
        if ! wait_ready "$dir" "$BOOT_TIMEOUT"; then
            console_tail "$dir"
            kill_qemu "$dir"
            die "the guest did not come up (limit ${BOOT_TIMEOUT} s)"
        fi
    fi
    local accel_name="software emulation (TCG)"
    [ "$accel" = kvm ] && accel_name=KVM
    echo "Debian kernel $(cat "$dir/ready") ($pkg), $accel_name, $CPUS vCPUs, $MEM MiB; booted in $((SECONDS - started)) s" >"$dir/info"
    cat "$dir/info"
}

cmd_stop() {
    local dir=$1 i
    [ -d "$dir" ] || return 0
    touch "$dir/stop"
    for ((i = 0; i < 300; i++)); do
        qemu_alive "$dir" || break
        sleep 0.1
    done
    qemu_alive "$dir" && { note "guest did not power off; killing it"; kill_qemu "$dir"; }
    rm -f "$dir/qemu.pid" "$dir/ready"
}

# cmd_exec DIR TIMEOUT CMD...: submit a job, stream its output, return its
# status.
cmd_exec() {
    local dir=$1 limit=$2; shift 2
    [ -f "$dir/ready" ] || die "no guest is running on $dir (vm.sh start $dir)"
    local id
    id=$(date +%s%N)-$$-$RANDOM
    local job=$dir/new/$id
    mkdir -p "$job"
    printf '%s\0' "$@" >"$job/argv"
    env -0 >"$job/env"
    pwd >"$job/cwd"
    echo "$limit" >"$job/timeout"
    mv "$job" "$dir/jobs/$id"
    trap 'touch "$dir/cancel/$id"; exit 143' TERM
    trap 'touch "$dir/cancel/$id"; exit 130' INT
    local run=$dir/run/$id off=0 size finished
    while :; do
        finished=0
        [ -f "$run/rc" ] && finished=1
        if [ -f "$run/out" ]; then
            size=$(stat -c %s "$run/out")
            if (( size > off )); then
                tail -c +$((off + 1)) "$run/out" | head -c $((size - off))
                off=$size
            fi
        fi
        [ "$finished" = 1 ] && break
        if ! qemu_alive "$dir"; then
            console_tail "$dir"
            die "the guest stopped while running: $*"
        fi
        sleep 0.1
    done
    trap - TERM INT
    local rc
    rc=$(cat "$run/rc")
    rm -rf "$run"
    return "$rc"
}

# ------------------------------------------------------------------- main

while [ $# -gt 0 ]; do
    case "$1" in
        --kernel) KERNEL=$2; shift 2 ;;
        --accel) ACCEL=$2; shift 2 ;;
        --mem) MEM=$2; shift 2 ;;
        --cpus) CPUS=$2; shift 2 ;;
        -h|--help) usage ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] || usage
verb=$1; shift
case "$ACCEL" in auto|kvm|tcg) ;; *) die "--accel takes auto, kvm or tcg" ;; esac

case "$verb" in
    prepare)
        ensure_host_tools
        prepare "$(kernel_package "$KERNEL")"
        echo "$KDIR (kernel $KVER)"
        ;;
    start)
        [ $# = 1 ] || usage
        cmd_start "$1"
        ;;
    stop)
        [ $# = 1 ] || usage
        cmd_stop "$1"
        ;;
    exec)
        [ $# -ge 1 ] || usage
        dir=$1; shift
        limit=0
        if [ "${1:-}" = --timeout ]; then limit=$2; shift 2; fi
        [ "${1:-}" = -- ] && shift
        [ $# -ge 1 ] || usage
        cmd_exec "$dir" "$limit" "$@"
        ;;
    run)
        [ "${1:-}" = -- ] && shift
        [ $# -ge 1 ] || usage
        dir=$(mktemp -d "${TMPDIR:-/tmp}/smcvm.XXXXXX")
        trap 'cmd_stop "$dir"; rm -rf "$dir"' EXIT
        cmd_start "$dir" >&2
        rc=0
        cmd_exec "$dir" 0 "$@" || rc=$?
        exit "$rc"
        ;;
    shell)
        ensure_host_tools
        prepare "$(kernel_package "$KERNEL")"
        accel=$ACCEL
        if [ "$accel" = auto ]; then accel=tcg; kvm_usable && accel=kvm; fi
        launch "" "$accel" shell
        ;;
    *) usage ;;
esac
