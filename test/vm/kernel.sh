#!/usr/bin/env bash
# Build (once) the trimmed 6.12 guest kernel with CONFIG_IDLE_PAGE_TRACKING and our
# /proc/PID/idle_pages patch (kernel/*.patch), from Debian's linux-source-6.12; cached under
# $CACHE by a hash of this script, the patches and the variant, so a second run is instant.
# usage: kernel.sh [trimmed|debug]; debug adds lockdep, DEBUG_VM and atomic-sleep checks.
# Prints the bzImage path on stdout.
set -euo pipefail
CACHE=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tierd-vm}
here=$(cd "$(dirname "$0")" && pwd)
variant=${1:-trimmed}
case $variant in trimmed|debug) ;; *) echo "kernel.sh: unknown variant $variant (trimmed|debug)" >&2; exit 2 ;; esac
patches=$(ls "$here"/../../kernel/*.patch 2>/dev/null || true)
hash=$( { cat "$here/kernel.sh"; [ -z "$patches" ] || cat $patches; echo "$variant"; } | sha256sum | cut -c1-12)
out=$CACHE/kernel-$variant-$hash/bzImage
if [ -s "$out" ]; then echo "$out"; exit 0; fi
mkdir -p "$CACHE"
log() { echo "[vm kernel] $*" >&2; }
if [ ! -e /usr/src/linux-source-6.12.tar.xz ] || ! command -v flex >/dev/null || ! command -v bison >/dev/null; then
  log "installing linux-source-6.12 and build dependencies"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    linux-source-6.12 make gcc libc6-dev flex bison libelf-dev libssl-dev bc xz-utils >/dev/null
fi
# one tree per variant, so each keeps its objects and rebuilds only what a patch touches
src=$CACHE/src/$variant/linux-source-6.12
if [ ! -d "$src" ]; then
  log "unpacking the kernel source"
  mkdir -p "$CACHE/src/$variant"
  tar -C "$CACHE/src/$variant" -xJf /usr/src/linux-source-6.12.tar.xz
fi
# the tree remembers what it carries: an older version of our patches is reversed first, and a
# patch that does not apply fails the build loudly
applied=$src/.tierd-applied.patch
wantp=$(mktemp); trap 'rm -f "$wantp"' EXIT
[ -z "$patches" ] || cat $patches > "$wantp"
if [ -e "$applied" ] && ! cmp -s "$applied" "$wantp"; then
  log "reversing the previously applied patches"
  (cd "$src" && patch -p1 -R --dry-run < "$applied" >/dev/null && patch -p1 -R < "$applied" >/dev/null) ||
    { echo "kernel.sh: cannot reverse the old patches in $src; delete that directory and rerun" >&2; exit 2; }
  rm -f "$applied"
fi
if [ ! -e "$applied" ]; then
  for p in $patches; do
    log "applying $(basename "$p")"
    (cd "$src" && patch -p1 --forward --dry-run < "$p" >/dev/null && patch -p1 --forward < "$p" >/dev/null) ||
      { echo "kernel.sh: kernel patch $p does not apply to linux-source-6.12" >&2; exit 2; }
  done
  cp "$wantp" "$applied"
fi
log "configuring"
(
  cd "$src"
  make -s x86_64_defconfig
  make -s kvm_guest.config >/dev/null
  want="NUMA ACPI_NUMA ACPI_HMAT NUMA_BALANCING MIGRATION MEMORY_HOTPLUG IDLE_PAGE_TRACKING
        DAMON DAMON_VADDR DAMON_PADDR DAMON_SYSFS MEM_SOFT_DIRTY PROC_PAGE_MONITOR TRANSPARENT_HUGEPAGE
        IKCONFIG IKCONFIG_PROC HMEM_REPORTING CGROUPS MEMCG CPUSETS BLK_DEV_INITRD DEVTMPFS TMPFS
        SERIAL_8250 SERIAL_8250_CONSOLE DEBUG_INFO_NONE PROC_IDLE_PAGES"
  if [ "$variant" = debug ]; then
    want="$want PROVE_LOCKING DEBUG_VM DEBUG_ATOMIC_SLEEP DEBUG_SPINLOCK DEBUG_LIST"
  fi
  drop="DRM SOUND USB_SUPPORT WLAN WIRELESS CFG80211 ETHERNET NETFILTER AGP FB HID MACINTOSH_DRIVERS
        ATA SCSI MD NETWORK_FILESYSTEMS EXT4_FS BT RFKILL PCCARD X86_MCE HIBERNATION SUSPEND
        VIRTUALIZATION KVM SECURITY_SELINUX AUDIT PROFILING KPROBES FTRACE IPV6 NET_SCHED"
  for o in $want; do scripts/config --enable "$o"; done
  for o in $drop; do scripts/config --disable "$o"; done
  make -s olddefconfig
  must="IDLE_PAGE_TRACKING DAMON_VADDR NUMA ACPI_HMAT"
  [ -z "$patches" ] || must="$must PROC_IDLE_PAGES"
  [ "$variant" = trimmed ] || must="$must PROVE_LOCKING DEBUG_VM"
  for o in $must; do grep -q "^CONFIG_$o=y" .config || { echo "CONFIG_$o did not stick" >&2; exit 2; }; done
)
log "compiling the $variant bzImage (about 8 minutes on 2 cores from scratch)"
t0=$SECONDS
make -C "$src" -s -j$(( $(nproc) + 1 )) bzImage > "$CACHE/build-$variant.log" 2>&1 || { tail -30 "$CACHE/build-$variant.log" >&2; exit 2; }
mkdir -p "$(dirname "$out")"
cp "$src/arch/x86/boot/bzImage" "$out"
log "built in $(( SECONDS - t0 )) s"
echo "$out"
