#!/bin/busybox sh
# tests/vm/initramfs-init.sh: /init of the guest's initramfs (built by
# tests/vm/vm.sh). It loads the modules the initramfs carries (virtio PCI and
# the 9p stack, in dependency order), mounts the host's root file system over
# 9p and switch_roots into it, running tests/vm/guest.sh (the path comes on
# the kernel command line as smcvm.stage2=) as the guest's PID 1.
/bin/busybox mkdir -p /proc /sys /dev /newroot /bin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

halt_now() {
    echo "smcvm: $*" >/dev/console
    echo o >/proc/sysrq-trigger
    sleep 60
}

while read -r mod; do
    insmod "/modules/$mod" || echo "smcvm: insmod $mod failed" >/dev/console
done </modules.list

stage2=""
for word in $(cat /proc/cmdline); do
    case "$word" in
        smcvm.stage2=*) stage2=${word#smcvm.stage2=} ;;
    esac
done
[ -n "$stage2" ] || halt_now "no smcvm.stage2= on the kernel command line"

# cache=loose: the guest may cache what it reads from the host (the build
# tree does not change while the guest runs); writes still reach the host.
mount -t 9p -o trans=virtio,version=9p2000.L,cache=loose,msize=262144 hostroot /newroot \
    || halt_now "cannot mount the host's root file system over 9p"
[ -f "/newroot$stage2" ] || halt_now "stage 2 $stage2 not found on the host's file system"

umount /proc /sys /dev
exec switch_root /newroot /bin/bash "$stage2"
