#!/usr/bin/env bash
# firmware-door CI: checks the fixtures, builds the door controller for a
# Cortex-M4F in release (size profile), runs it under QEMU (netduinoplus2, an
# STM32F405) and prints its flash, static RAM, peak stack and peak heap.
#
# Fails if a fixture is stale, the build or lints fail, a case does not come out
# as expected (the program's exit status), QEMU hangs, or flash exceeds 192 KiB.
# Installs what it needs if missing: the Rust target and Debian's qemu-system-arm.
set -euo pipefail
cd "$(dirname "$0")"

target=thumbv7em-none-eabihf
elf=${CARGO_TARGET_DIR:-target}/$target/release/firmware-door
flash_limit=$((192 * 1024))
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
python3 - "$elf" "$log" "$flash_limit" <<'EOF'
import struct, sys

elf, log, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
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
print(f"flash:       {flash:7d} bytes ({kib(flash)}) = text {text} + rodata {rodata} + data {dat}"
      f"   [limit {kib(limit)}, target 128.0 KiB]")
print(f"static RAM:  {dat + bss:7d} bytes ({kib(dat + bss)}) = data {dat} + bss {bss}"
      f" (bss holds the {kib(peaks.get('heap size bytes', 0))} heap)")
for key, target in (("stack peak bytes", 16), ("heap peak bytes", 8)):
    if key not in peaks:
        sys.exit(f"error: the run did not report '{key}'")
    print(f"peak {key.split()[0]}:  {peaks[key]:7d} bytes ({kib(peaks[key])})   [target {target}.0 KiB]")
if flash > limit:
    sys.exit(f"error: flash {flash} bytes exceeds the limit of {limit} bytes")
EOF
echo "firmware-door: ok"
