#!/usr/bin/env bash
# tierd's real-kernel proof: boots a 2-node NUMA VM under qemu (node 0 = 1 GiB + 2 CPUs,
# node 1 = 2 GiB CPU-less, HMAT on) and runs guest suites (test/vm/guest/<suite>.mjs) in it:
#   stock    Debian's 6.12 kernel (DAMON):                         e2e (damon)
#   trimmed  our 6.12 build, page_idle + our /proc/PID/idle_pages: idle-proof, skim-proof, user-proof, e2e
#            (idle_pages, page_idle; DAMON is proven on the stock kernel)
#   debug    the same with lockdep and DEBUG_VM:                   stress
#   systemd  Debian's 6.12 kernel booting a Debian root file system (debootstrap, cached) with
#            systemd as PID 1; tierd installed by the README's steps runs as the service:
#            systemd-proof
# and exits with the guests' verdict. KERNELS="stock trimmed systemd" (default) picks which kernels;
# TIMEOUT bounds each qemu (seconds); TCG_THREAD=multi gives each vCPU its own host thread (for
# measurements of parallel work; the default, single, runs both vCPUs on one); TRACKERS=a,b
# limits e2e's trackers on every kernel, TRIMMED_TRACKERS on the trimmed kernel only; GUEST_CMD runs a shell command in the guest
# instead of the suites (debugging); GUEST_SUITES replaces every kernel's suites and GUEST_ARGS
# adds tierd.KEY=VALUE words to the kernel command line (the guest sees TIERD_KEY; the
# comparison benchmark, bench/vm-compare.ts, passes its contender and workload this way).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tierd-vm}
WORK=${WORK:-$(mktemp -d /tmp/tierd-vm.XXXXXX)}
KERNELS=${KERNELS:-stock trimmed systemd}
TIMEOUT=${TIMEOUT:-2400}
mkdir -p "$CACHE" "$WORK"
# the work dir keeps the consoles and logs (a failed run names them); the images, 340–830 MB a
# run, go when it ends (KEEP_WORK=1 keeps them)
prune_work() { [ "${KEEP_WORK:-0}" = 1 ] || rm -rf "$WORK"/initrd.img "$WORK"/base.cpio "$WORK"/rootfs "$WORK"/app "$WORK"/systemd-over "$WORK"/systemd-over.cpio "$WORK"/*.tgz; }
trap prune_work EXIT
t0=$SECONDS
log() { echo "[vm $(( SECONDS - t0 ))s] $*" >&2; }

need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
{ [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; } || need+=(busybox-static)
command -v cpio >/dev/null || need+=(cpio)
command -v gcc >/dev/null || need+=(gcc)
[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || need+=(libc6-dev)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

stock_kernel() {
  local pkg dir
  pkg=$(apt-cache depends linux-image-6.12-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
  if [ -z "$pkg" ]; then apt-get update -qq; pkg=$(apt-cache depends linux-image-6.12-amd64 | awk '/Depends: linux-image-/{print $2; exit}'); fi
  dir=$CACHE/$pkg
  if [ ! -d "$dir/boot" ]; then
    log "downloading $pkg"
    mkdir -p "$CACHE/deb"
    (cd "$CACHE/deb" && apt-get download -q "$pkg" >/dev/null 2>&1)
    dpkg-deb -x "$CACHE/deb/${pkg}_"*.deb "$dir"
  fi
  ls "$dir"/boot/vmlinuz-*
}

# the initramfs: busybox, the host's node and its libraries, /init; then the built project
base=$WORK/base.cpio
rootfs=$WORK/rootfs
rm -rf "$rootfs"; mkdir -p "$rootfs"/{bin,usr/bin,proc,sys,dev,tmp,run,etc,root,app}
cp /bin/busybox "$rootfs/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$rootfs/bin/$a"; done
# the shared libraries $1 links, into the rootfs at their paths ($2: an unpacked tree whose
# libraries go to the same paths without its prefix)
copy_libs() {
  local pre=${2:-}
  LD_LIBRARY_PATH=${pre:+$pre/usr/lib/x86_64-linux-gnu} ldd "$1" | grep -oE '/[^ ]+' | while read -r l; do
    local to=${l#"$pre"}; mkdir -p "$rootfs$(dirname "$to")"; cp -L "$l" "$rootfs$to"
  done
}
strip --strip-debug -o "$rootfs/usr/bin/node" "$(readlink -f "$(command -v node)")"
copy_libs "$(command -v node)"
# setpriv (util-linux): the user-proof suite runs tierd's kernel layer as another user with
# ambient capabilities, as the systemd unit does
cp "$(command -v setpriv)" "$rootfs/usr/bin/setpriv"
copy_libs "$(command -v setpriv)"
# GUEST_REDIS=1 (the comparison benchmark's redis workload): Debian's redis-server, its
# packages and the libraries it needs that the host lacks unpacked once into the cache, and
# copied in with what it links
redis_files() {
  local dir=$CACHE/redis
  if [ ! -x "$dir/usr/bin/redis-check-rdb" ]; then
    log "unpacking Debian's redis-server"
    rm -rf "$dir" "$CACHE/redis-deb"; mkdir -p "$CACHE/redis-deb"
    (cd "$CACHE/redis-deb" && apt-get download -q redis-server redis-tools libjemalloc2 liblzf1 >/dev/null 2>&1) \
      || { apt-get update -qq; (cd "$CACHE/redis-deb" && apt-get download -q redis-server redis-tools libjemalloc2 liblzf1 >/dev/null 2>&1); }
    for d in "$CACHE"/redis-deb/*.deb; do dpkg-deb -x "$d" "$dir"; done
  fi
  cp -a "$dir/usr/bin/redis-server" "$dir/usr/bin/redis-check-rdb" "$rootfs/usr/bin/"
  copy_libs "$dir/usr/bin/redis-check-rdb" "$dir"
}
if [ "${GUEST_REDIS:-0}" = 1 ]; then redis_files; fi
echo 'root:x:0:0:root:/root:/bin/sh' > "$rootfs/etc/passwd"
cat > "$rootfs/init" <<'EOF_INIT'
#!/bin/sh
export PATH=/usr/bin:/bin HOME=/root NO_COLOR=1
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
exec 0</dev/console 1>/dev/console 2>&1
mount -t tmpfs tmpfs /tmp; mkdir -p /dev/shm; mount -t tmpfs tmpfs /dev/shm
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
# as systemd does on a real host: the DAMON tracker reads its tracepoint here
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
ifconfig lo 127.0.0.1 up
# NUMA balancing would move pages behind tierd's back
echo 0 > /proc/sys/kernel/numa_balancing
# under TCG, accessed bits cleared without a TLB flush stay clear until the soft TLB is
# dropped: a sleeper per CPU forces address-space switches every 10 ms
for c in 0 1; do taskset -c $c sh -c 'while :; do usleep 10000; done' & done
echo "TIERD_VM_KERNEL $(uname -r) nodes $(cat /sys/devices/system/node/online)"
cd /app
for kv in $(cat /proc/cmdline); do case $kv in
  tierd.suites=*) suites=${kv#*=} ;;
  tierd.trackers=*) export TRACKERS=${kv#*=} ;;
  tierd.*=*) k=${kv%%=*}; k=$(echo "${k#tierd.}" | tr a-z A-Z); export "TIERD_$k=${kv#*=}" ;;
esac; done
if [ -f /guest/cmd.sh ]; then sh /guest/cmd.sh; rc=$?
else
  rc=0
  for s in $(echo "$suites" | tr , ' '); do echo "TIERD_VM_SUITE $s"; node test/vm/guest/$s.mjs || rc=1; done
fi
echo "TIERD_VM_EXIT=$rc"
poweroff -f
EOF_INIT
chmod +x "$rootfs/init"
# the systemd boot: its root file system arrives under /newroot; systemd wants a real file
# system as /, so it is copied to a tmpfs and becomes the root
cat > "$rootfs/init-systemd" <<'EOF_INIT'
#!/bin/sh
mount -t devtmpfs devtmpfs /dev
exec 0</dev/console 1>/dev/console 2>&1
mkdir -p /mnt && mount -t tmpfs -o size=1500m,mode=0755 tmpfs /mnt && cp -a /newroot/. /mnt/
umount /dev
exec switch_root /mnt /sbin/init
EOF_INIT
chmod +x "$rootfs/init-systemd"
(cd "$rootfs" && find . | cpio -o -H newc --owner=0:0 --quiet) > "$base"

app=$WORK/app/app
mkdir -p "$app"
(cd "$root" && cp -a package.json dist config "$app/" && mkdir -p "$app/test/vm" && cp -a test/vm/guest "$app/test/vm/")
# production dependencies only
(cd "$root" && npm ls --omit=dev --all --parseable 2>/dev/null | grep node_modules | while read -r d; do mkdir -p "$app/${d#"$root"/}"; cp -a "$d"/. "$app/${d#"$root"/}/"; done)
rm -rf "$app/dist/test" "$app/dist/bench"
# GUEST_CMD: run this instead of the e2e test (debugging)
if [ -n "${GUEST_CMD:-}" ]; then mkdir -p "$WORK/app/guest" && printf '%s\n' "$GUEST_CMD" > "$WORK/app/guest/cmd.sh"; fi
# the workload is static C, so a process's whole address space is known to the verdict
gcc -static -O2 -o "$app/test/vm/guest/workload" "$root/test/vm/guest/workload.c"
gcc -static -O2 -o "$app/test/vm/guest/compare-workload" "$root/test/vm/guest/compare-workload.c" -lm
gcc -static -O2 -o "$app/test/vm/guest/redis-client" "$root/test/vm/guest/redis-client.c" -lm
# compiled code under TCG against the host (GUEST_CMD=/app/test/vm/guest/tcg-probe)
gcc -static -O2 -o "$app/test/vm/guest/tcg-probe" "$root/test/vm/guest/tcg-probe.c"
initrd=$WORK/initrd.img

boot() {  # $1 = kernel image, $2 = label, $3 = suites, $4 = e2e trackers (empty: all offered); sets rc
  # a Debian host has the kernel's config in /boot (DAMON vaddr is read from it, never probed by writing)
  rm -rf "$WORK/app/boot"
  local kcfg; kcfg=$(ls "$(dirname "$1")"/config-* 2>/dev/null | head -1 || true)
  if [ -n "$kcfg" ]; then mkdir -p "$WORK/app/boot" && cp "$kcfg" "$WORK/app/boot/"; fi
  { cat "$base"; (cd "$WORK/app" && find . | cpio -o -H newc --owner=0:0 --quiet); for x in ${EXTRA_CPIO:-}; do cat "$x"; done; } > "$initrd"
  local con=$WORK/console-$2.log
  : > "$con"
  log "booting $2 ($1)"
  timeout -k 10 "$TIMEOUT" qemu-system-x86_64 -accel tcg,thread=${TCG_THREAD:-single} -cpu max -machine pc,hmat=on -m 3072M -smp 2 \
    -object memory-backend-ram,id=m0,size=1G -object memory-backend-ram,id=m1,size=2G \
    -numa node,nodeid=0,cpus=0-1,memdev=m0,initiator=0 -numa node,nodeid=1,memdev=m1,initiator=0 \
    -numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=access-latency,latency=100 \
    -numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=access-bandwidth,bandwidth=20G \
    -numa hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-latency,latency=300 \
    -numa hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-bandwidth,bandwidth=5G \
    -kernel "$1" -initrd "$initrd" -append "console=ttyS0 panic=-1 rdinit=${RDINIT:-/init} quiet transparent_hugepage=always tierd.suites=$3${4:+ tierd.trackers=$4}${GUEST_ARGS:+ $GUEST_ARGS}" \
    -display none -monitor none -serial "file:$con" -no-reboot -nodefaults -net none </dev/null &
  local q=$!
  trap 'kill $q 2>/dev/null || true; prune_work' EXIT INT TERM
  tail -n +1 -s 0.5 -f --pid=$q "$con" | sed -u 's/\r$//' | grep --line-buffered -E 'VERDICT|TIERD_VM|COMPARE_|SKIM_COST|SCALE_RESULT|\[compare\]|\[(idle_pages|page_idle|damon|damos|stress|systemd)\]|topology:|Oops|BUG|WARNING|panic' &
  set +e; wait $q; local qrc=$?; set -e
  trap - INT TERM
  trap prune_work EXIT
  sleep 1
  rc=$(tr -d '\r' < "$con" | sed -n 's/^TIERD_VM_EXIT=\([0-9]*\).*/\1/p' | tail -1)
  if [ -z "$rc" ]; then
    echo "VM $2: no verdict (qemu rc $qrc); console: $con" >&2
    tail -20 "$con" >&2
    rc=3
  fi
  if grep -qE 'Oops|BUG:|WARNING:.*at ' "$con"; then echo "VM $2: the kernel logged a warning or oops" >&2; rc=5; fi
  log "$2: verdict rc=$rc"
}

# the systemd boot's root file system: Debian bookworm by debootstrap from the Debian mirror
# (minbase, systemd, once per machine), as a cpio under newroot/
systemd_root() {
  local dir=$CACHE/systemd-root cpio=$CACHE/systemd-root.cpio
  if [ ! -d "$dir/newroot" ]; then
    command -v debootstrap >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; }
    log "building a Debian root file system with debootstrap (once per machine)"
    rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
    debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,procps,util-linux bookworm "$dir.tmp/newroot" http://deb.debian.org/debian > "$WORK/debootstrap.log" 2>&1 \
      || { tail -20 "$WORK/debootstrap.log" >&2; echo "debootstrap failed (log: $WORK/debootstrap.log)" >&2; exit 2; }
    rm -rf "$dir.tmp"/newroot/var/cache/apt/archives/*.deb "$dir.tmp"/newroot/var/lib/apt/lists/* "$dir.tmp"/newroot/usr/share/{doc,man,locale}
    rm -rf "$dir"; mv "$dir.tmp" "$dir"; rm -f "$cpio"
  fi
  [ -f "$cpio" ] || (cd "$dir" && find newroot | cpio -o -H newc --quiet) > "$cpio"
  echo "$cpio"
}
# what the operator adds: node, tierd by the README's install (npm pack, npm install -g into
# /usr/local), the unit and the DAMON profile, /etc/tierd; and the proof, run as a service
systemd_overlay() {
  local over=$WORK/systemd-over nr
  nr=$over/newroot
  rm -rf "$over"; mkdir -p "$nr/usr/local/bin" "$nr/etc/tierd" "$nr/etc/systemd/system/tierd.service.d" "$nr/etc/systemd/system/multi-user.target.wants"
  strip --strip-debug -o "$nr/usr/local/bin/node" "$(readlink -f "$(command -v node)")"
  (cd "$root" && npm pack --silent --pack-destination "$WORK" >/dev/null 2>&1)
  npm install -g --silent --prefer-offline --prefix "$nr/usr/local" "$WORK"/tierd-*.tgz >&2
  cp "$root/systemd/tierd.service" "$nr/etc/systemd/system/"
  cp "$root/systemd/tierd.service.d/damon.conf" "$nr/etc/systemd/system/tierd.service.d/"
  cp -a "$WORK/app/app" "$nr/app"
  # a Debian host has its kernel's config in /boot (tierd reads DAMON vaddr from it)
  mkdir -p "$nr/boot" && cp "$(dirname "$stock_img")"/config-* "$nr/boot/"
  cat > "$nr/etc/systemd/system/tierd-proof.service" <<'EOF_UNIT'
[Unit]
Description=tierd's systemd proof (test/vm/guest/systemd-proof.mjs)
After=multi-user.target
[Service]
Type=oneshot
WorkingDirectory=/app
Environment=PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin NO_COLOR=1
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
# as run.sh's /init: no NUMA balancing; a sleeper per CPU so that TCG drops its soft TLB (one
# process each: a shell loop forking sleep 100 times a second soft-locked both vCPUs)
# ($$ is systemd's escape for a shell's $)
ExecStart=/bin/sh -c 'echo 0 > /proc/sys/kernel/numa_balancing; for c in 0 1; do taskset -c $$c perl -e "select(undef, undef, undef, 0.01) while 1" & done; echo "TIERD_VM_KERNEL $$(uname -r) systemd as PID 1: $$(cat /proc/1/comm)"; node test/vm/guest/systemd-proof.mjs; echo "TIERD_VM_EXIT=$$?"; systemctl poweroff --force'
[Install]
WantedBy=multi-user.target
EOF_UNIT
  ln -s ../tierd-proof.service "$nr/etc/systemd/system/multi-user.target.wants/tierd-proof.service"
  # the proof owns the serial console
  ln -s /dev/null "$nr/etc/systemd/system/serial-getty@ttyS0.service"
  (cd "$over" && find newroot | cpio -o -H newc --owner=0:0 --quiet) > "$WORK/systemd-over.cpio"
  echo "$WORK/systemd-over.cpio"
}

for kname in $KERNELS; do
  case $kname in stock|trimmed|debug|systemd) ;; *) echo "unknown kernel $kname (stock|trimmed|debug|systemd)" >&2; exit 2 ;; esac
done
# the stock kernel first (its download uses apt), then our kernels build in the background
# while earlier VMs run: TCG keeps one core busy, the build takes the rest
case " $KERNELS " in *" stock "*|*" systemd "*) stock_img=$(stock_kernel) ;; esac
variants=()
for kname in $KERNELS; do case $kname in trimmed|debug) variants+=("$kname") ;; esac; done
build_pid=
if [ ${#variants[@]} -gt 0 ]; then
  log "building ${variants[*]} in the background (log: $WORK/kernel-build.log)"
  ( for v in "${variants[@]}"; do "$root/test/vm/kernel.sh" "$v" > "$WORK/kernel-$v.path"; done ) > "$WORK/kernel-build.log" 2>&1 &
  build_pid=$!
fi
built() {  # $1 = variant: wait for the background builds, set img
  if [ -n "$build_pid" ]; then
    wait "$build_pid" || { tail -30 "$WORK/kernel-build.log" >&2; echo "building the guest kernel failed (log: $WORK/kernel-build.log)" >&2; exit 2; }
    build_pid=
    cat "$WORK/kernel-build.log" >&2
  fi
  img=$(cat "$WORK/kernel-$1.path")
}
status=0
for kname in $KERNELS; do
  case $kname in
    stock) img=$stock_img; suites=e2e; trackers=${TRACKERS:-} ;;
    trimmed) built trimmed; suites=idle-proof,skim-proof,user-proof,e2e; trackers=${TRACKERS:-${TRIMMED_TRACKERS:-idle_pages,page_idle}} ;;
    debug) built debug; suites=stress; trackers= ;;
    systemd) img=$stock_img; suites=systemd-proof; trackers= ;;
  esac
  suites=${GUEST_SUITES:-$suites}
  if [ "$kname" = systemd ]; then
    EXTRA_CPIO="$(systemd_root) $(systemd_overlay)" RDINIT=/init-systemd boot "$img" "$kname" "$suites" "$trackers"
  else
    boot "$img" "$kname" "$suites" "$trackers"
  fi
  [ "$rc" = 0 ] || status=1
done
log "done (status $status)"
exit $status
