#!/usr/bin/env bash
# firmware-door CI: checks the fixtures, builds the door controller for a
# Cortex-M4F in release (size profile), runs it under QEMU (netduinoplus2, an
# STM32F405) and prints its flash, static RAM, peak stack and peak heap.
#
# Two builds, each run and measured against its row of DESIGN.md's firmware
# table:
# - the door: flash 128 KiB, static RAM 24 KiB, peak heap 8 KiB, peak stack 16 KiB;
# - the door with its audit log and receipt verification (`--features audit`):
#   flash 144 KiB, static RAM 32 KiB, peak heap 8 KiB, peak stack 16 KiB.
# Fails if a fixture is stale, a build or lints fail, a case does not come out as
# expected (the program's exit status), QEMU hangs, or any figure exceeds its
# budget.
#
# Then it builds the `icount` variant and runs it under `qemu-system-arm -icount
# shift=0`: it prints the instructions `Verifier::verify` takes on the valid
# credential and on an adversarial one of the verifier's 64 KiB token limit
# (refused before the signature), and those one receipt verification takes. That
# variant carries the 64 KiB token in flash, so the budgets are checked on the
# builds above, not on it.
# Installs what it needs if missing: the Rust target and Debian's qemu-system-arm.
set -euo pipefail
cd "$(dirname "$0")"

target=thumbv7em-none-eabihf
elf=${CARGO_TARGET_DIR:-target}/$target/release/firmware-door
# DESIGN.md, "Firmware budgets": the door build, and the door + audit build.
flash_limit=$((128 * 1024))
ram_limit=$((24 * 1024))
audit_flash_limit=$((144 * 1024))
audit_ram_limit=$((32 * 1024))
heap_limit=$((8 * 1024))
stack_limit=$((16 * 1024))
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

if ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target"
fi
if ! command -v qemu-system-arm >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-system-arm >/dev/null
fi

echo "--- fixtures (host generator, --check)"
(cd gen && cargo fmt --check && cargo clippy -q --release -- -D warnings &&
    cargo run -q --release -- --check)

log=$(mktemp)
trap 'rm -f "$log"' EXIT

# check LABEL FEATURES FLASH_LIMIT RAM_LIMIT: build, run under QEMU, measure.
check() {
    local label=$1 features=$2 flash=$3 ram=$4
    echo "--- build: $label ($target, release: opt-level z, fat LTO, panic abort)"
    # shellcheck disable=SC2086
    cargo clippy -q --release $features -- -D warnings
    # shellcheck disable=SC2086
    cargo build -q --release $features
    echo "--- run: $label (qemu-system-arm -machine netduinoplus2, semihosting)"
    local status=0
    timeout 120 qemu-system-arm -machine netduinoplus2 -nographic -monitor none -serial none \
        -semihosting-config enable=on,target=native -kernel "$elf" >"$log" 2>&1 || status=$?
    cat "$log"
    if [ "$status" -ne 0 ]; then
        echo "error: firmware-door ($label) exited with status $status (124: timed out)" >&2
        exit 1
    fi
    echo "--- footprint: $label"
    footprint "$flash" "$ram"
}

footprint() {
python3 - "$elf" "$log" "$1" "$2" "$heap_limit" "$stack_limit" <<'EOF'
import struct, sys

elf, log = sys.argv[1], sys.argv[2]
limit, ram_limit, heap_limit, stack_limit = (int(a) for a in sys.argv[3:7])
data = open(elf, "rb").read()
if data[:4] != b"\x7fELF" or data[4] != 1 or data[5] != 1:
    sys.exit("not a 32-bit little-endian ELF: " + elf)
shoff, = struct.unpack_from("<I", data, 0x20)
shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)
sections = []
for i in range(shnum):
    name, typ, flags, addr, off, size = struct.unpack_from("<6I", data, shoff + i * shentsize)
    sections.append((name, typ, flags, off, size))
stroff = sections[shstrndx][3]
def name_of(n):
    end = data.index(b"\0", stroff + n)
    return data[stroff + n:end].decode()
SHF_ALLOC, SHT_NOBITS = 0x2, 8
text = rodata = dat = bss = 0
for name, typ, flags, _off, size in sections:
    if not flags & SHF_ALLOC:
        continue
    n = name_of(name)
    if n == ".rodata":
        rodata += size
    elif n == ".data":
        dat += size
    elif typ == SHT_NOBITS:
        bss += size          # .bss, .uninit: RAM only
    else:
        text += size         # .vector_table, .text, .gnu.sgstubs: code in flash
flash = text + rodata + dat
peaks = {}
for line in open(log):
    for key in ("stack peak bytes", "heap peak bytes", "heap size bytes"):
        if line.startswith(key + ":"):
            peaks[key] = int(line.split(":")[1])
kib = lambda n: f"{n / 1024:.1f} KiB"
for key in ("stack peak bytes", "heap peak bytes"):
    if key not in peaks:
        sys.exit(f"error: the run did not report '{key}'")
ram = dat + bss
stack, heap = peaks["stack peak bytes"], peaks["heap peak bytes"]
print(f"flash:       {flash:7d} bytes ({kib(flash)}) = text {text} + rodata {rodata} + data {dat}"
      f"   [budget {kib(limit)}]")
print(f"static RAM:  {ram:7d} bytes ({kib(ram)}) = data {dat} + bss {bss}"
      f" (bss holds the {kib(peaks.get('heap size bytes', 0))} heap)   [budget {kib(ram_limit)}]")
print(f"peak stack:  {stack:7d} bytes ({kib(stack)})   [budget {kib(stack_limit)}]")
print(f"peak heap:   {heap:7d} bytes ({kib(heap)})   [budget {kib(heap_limit)}]")
over = [f"{what} {got} bytes exceeds its budget of {budget} bytes"
        for what, got, budget in (("flash", flash, limit), ("static RAM", ram, ram_limit),
                                  ("peak stack", stack, stack_limit), ("peak heap", heap, heap_limit))
        if got > budget]
for o in over:
    print(f"error: {o}", file=sys.stderr)
if over:
    sys.exit(1)
EOF
}

cargo fmt --check
check "door" "" "$flash_limit" "$ram_limit"
check "door + audit" "--features audit" "$audit_flash_limit" "$audit_ram_limit"

echo "--- instruction counts (icount build, qemu-system-arm -icount shift=0)"
cargo clippy -q --release --features icount -- -D warnings
cargo build -q --release --features icount
status=0
timeout 300 qemu-system-arm -machine netduinoplus2 -nographic -monitor none -serial none -icount shift=0 \
    -semihosting-config enable=on,target=native -kernel "$elf" >"$log" 2>&1 || status=$?
grep '^icount' "$log" || true
if [ "$status" -ne 0 ]; then
    cat "$log"
    echo "error: the icount run exited with status $status (124: timed out)" >&2
    exit 1
fi
echo "firmware-door: ok"
