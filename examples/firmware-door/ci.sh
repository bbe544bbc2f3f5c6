#!/usr/bin/env bash
# firmware-door CI: checks the fixtures, builds the door controller for a
# Cortex-M4F in release (size profile), runs it under QEMU (netduinoplus2, an
# STM32F405) and prints its flash, static RAM, peak stack and peak heap.
#
# Fails if a fixture is stale, the build or lints fail, a case does not come out
# as expected (the program's exit status), QEMU hangs, or any figure exceeds its
# budget in DESIGN.md's firmware table: flash 128 KiB, static RAM 24 KiB, peak
# heap 8 KiB, peak stack 16 KiB.
#
# Then it builds the `icount` variant and runs it under `qemu-system-arm -icount
# shift=0`: it prints the instructions `Verifier::verify` takes on the valid
# credential and on an adversarial one of the verifier's 64 KiB token limit
# (refused before the signature). That variant carries the 64 KiB token in flash,
# so the budgets are checked on the door build above, not on it.
# Installs what it needs if missing: the Rust target and Debian's qemu-system-arm.
set -euo pipefail
cd "$(dirname "$0")"

target=thumbv7em-none-eabihf
elf=${CARGO_TARGET_DIR:-target}/$target/release/firmware-door
# DESIGN.md, "Firmware budgets", the door build.
flash_limit=$((128 * 1024))
ram_limit=$((24 * 1024))
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

echo "--- build ($target, release: opt-level z, fat LTO, panic abort)"
cargo fmt --check
cargo clippy -q --release -- -D warnings
cargo build -q --release

echo "--- run (qemu-system-arm -machine netduinoplus2, semihosting)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
timeout 120 qemu-system-arm -machine netduinoplus2 -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -kernel "$elf" >"$log" 2>&1 || status=$?
cat "$log"
if [ "$status" -ne 0 ]; then
    echo "error: firmware-door exited with status $status (124: timed out)" >&2
    exit 1
fi

echo "--- footprint"
python3 - "$elf" "$log" "$flash_limit" "$ram_limit" "$heap_limit" "$stack_limit" <<'EOF'
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
