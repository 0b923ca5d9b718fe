#!/usr/bin/env bash
# Build the four services as fully static x86_64-unknown-linux-musl binaries (the `dist`
# profile: release with whole-program LTO) and package
# each for Alibaba FC and Tencent SCF, then check what was made.
#
#   deploy/package.sh            # build + package + check, into dist/
#   deploy/package.sh --no-build # package + check the binaries already built
#
# dist/fc/<service>.zip   bootstrap (the binary, mode 0755) — FC runs /code/bootstrap
# dist/scf/<service>.zip  scf_bootstrap (web functions, port 9000) and, for the scheduler,
#                         bootstrap too (its custom-runtime event function), mode 0755, plus
#                         the binary
#
# Needs: cargo and rustup (it adds the musl target), musl-gcc for the C code in dependencies
# (apt-get install musl-tools), nasm for libjpeg-turbo's SIMD code (apt-get install nasm),
# python3 (writes the zips); checked first, with what to install.
#
# Checks: every binary is statically linked (no ELF interpreter, no NEEDED libraries), the
# start file has mode 0755 inside the archive itself, and each zip is at most 15 MB.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=x86_64-unknown-linux-musl
SERVICES=(gateway svc-drugs svc-chat svc-scheduler)
MAX_ZIP_BYTES=$((15 * 1024 * 1024))
OUT=dist

# Prerequisites, checked before anything is built: without musl-gcc the build would fail
# minutes later, deep inside a dependency's build script (the C code of SQLite, jemalloc,
# libjpeg-turbo and ring is compiled for the musl target).
BUILD=1
[[ "${1:-}" == "--no-build" ]] && BUILD=0
missing=()
command -v python3 >/dev/null 2>&1 ||
  missing+=("python3: writes and checks the zips (apt-get install python3)")
if ((BUILD)); then
  command -v cargo >/dev/null 2>&1 ||
    missing+=("cargo: the Rust toolchain (https://rustup.rs)")
  # cc-rs compiles for $TARGET with musl-gcc unless CC_x86_64_unknown_linux_musl names another.
  if [[ -z "${CC_x86_64_unknown_linux_musl:-}" ]] && ! command -v musl-gcc >/dev/null 2>&1; then
    missing+=("musl-gcc: compiles the C code in dependencies for $TARGET (apt-get update && apt-get install musl-tools; or set CC_x86_64_unknown_linux_musl to another musl C compiler)")
  fi
  # Without nasm libjpeg-turbo's SIMD code is left out and the photo decode takes ~1.6x as long.
  command -v nasm >/dev/null 2>&1 ||
    missing+=("nasm: assembles libjpeg-turbo's SIMD code for svc-drugs' JPEG decoder (apt-get install nasm)")
  if ! rustup target list --installed 2>/dev/null | grep -qx "$TARGET" &&
    ! command -v rustup >/dev/null 2>&1; then
    missing+=("the Rust target $TARGET, and no rustup to add it (install rustup from https://rustup.rs, then: rustup target add $TARGET)")
  fi
fi
if ((${#missing[@]})); then
  echo "deploy/package.sh: missing prerequisites; install them and run it again:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 1
fi

if ((BUILD)); then
  if ! rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
    rustup target add "$TARGET" || {
      echo "deploy/package.sh: rustup could not add $TARGET (offline?); run 'rustup target add $TARGET' and try again" >&2
      exit 1
    }
  fi
  args=()
  for s in "${SERVICES[@]}"; do args+=(-p "$s"); done
  cargo build --profile dist --locked --target "$TARGET" "${args[@]}"
  # mozjpeg-sys looks for nasm only when its build script runs, and a cached build does not
  # run it again: a target directory first built without nasm keeps the plain C code. Its
  # latest build script output says which it built.
  jpeg_build=$(ls -td "${CARGO_TARGET_DIR:-target}/$TARGET"/dist/build/mozjpeg-sys-*/output 2>/dev/null | head -1 || true)
  if [[ -n "$jpeg_build" ]] && grep -q "NASM not installed" "$jpeg_build"; then
    echo "deploy/package.sh: libjpeg-turbo was built without its SIMD code (nasm was missing then); run" >&2
    echo "  cargo clean -p mozjpeg-sys --profile dist --target $TARGET" >&2
    echo "and package again" >&2
    exit 1
  fi
fi

BIN_DIR="${CARGO_TARGET_DIR:-target}/$TARGET/dist"
rm -rf "$OUT" && mkdir -p "$OUT/fc" "$OUT/scf"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

for s in "${SERVICES[@]}"; do
  bin="$BIN_DIR/$s"
  [[ -x "$bin" ]] || { echo "missing $bin (build first)" >&2; exit 1; }

  # FC: /code/bootstrap is the binary itself; FC sets FC_SERVER_PORT.
  mkdir -p "$stage/fc/$s"
  install -m 0755 "$bin" "$stage/fc/$s/bootstrap"

  # SCF: web functions start scf_bootstrap and must listen on 9000; the scheduler is an
  # event function with a custom runtime, started from bootstrap (it serves the runtime API
  # loop when SCF_RUNTIME_API is set).
  mkdir -p "$stage/scf/$s"
  install -m 0755 "$bin" "$stage/scf/$s/$s"
  serve=""
  [[ "$s" == "svc-scheduler" ]] && serve=" serve" # never the runtime loop in a web function
  printf '#!/bin/sh\nexport PORT=9000\nexec "$(dirname "$0")/%s"%s\n' "$s" "$serve" > "$stage/scf/$s/scf_bootstrap"
  chmod 0755 "$stage/scf/$s/scf_bootstrap"
  if [[ "$s" == "svc-scheduler" ]]; then
    # The same zip is also the event function (timers): bootstrap runs the runtime API loop.
    printf '#!/bin/sh\nexec "$(dirname "$0")/%s" scf-runtime\n' "$s" > "$stage/scf/$s/bootstrap"
    chmod 0755 "$stage/scf/$s/bootstrap"
  fi
done

python3 - "$stage" "$OUT" "$MAX_ZIP_BYTES" "${SERVICES[@]}" <<'PY'
import os, stat, sys, zipfile

stage, out, max_bytes, services = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]

def is_static(path):
    """An ELF with no PT_INTERP program header and no DT_NEEDED entries."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return False, "not a 64-bit ELF"
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    dynamic = None
    for i in range(phnum):
        p_type, = struct.unpack_from("<I", data, phoff + i * phentsize)
        if p_type == 3:
            return False, "has an ELF interpreter (dynamically linked)"
        if p_type == 2:
            dynamic = struct.unpack_from("<QQQQQ", data, phoff + i * phentsize + 8)
    if dynamic:
        offset, _, _, filesz, _ = dynamic
        for j in range(0, filesz, 16):
            tag, = struct.unpack_from("<q", data, offset + j)
            if tag == 1:
                return False, "needs a shared library (DT_NEEDED)"
            if tag == 0:
                break
    return True, "static"

failures = []
for platform in ("fc", "scf"):
    for s in services:
        src = os.path.join(stage, platform, s)
        dest = os.path.join(out, platform, f"{s}.zip")
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            for name in sorted(os.listdir(src)):
                path = os.path.join(src, name)
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                mode = stat.S_IMODE(os.stat(path).st_mode)
                info.external_attr = (stat.S_IFREG | mode) << 16
                info.create_system = 3  # Unix, so the mode bits are honoured
                with open(path, "rb") as f:
                    z.writestr(info, f.read())
        # Check the archive itself, as the platform will see it.
        size = os.path.getsize(dest)
        with zipfile.ZipFile(dest) as z:
            names = {i.filename: i for i in z.infolist()}
            starts = ["bootstrap"] if platform == "fc" else ["scf_bootstrap"] + (["bootstrap"] if s == "svc-scheduler" else [])
            for start in starts:
                if start not in names:
                    failures.append(f"{dest}: no {start}")
                    continue
                mode = (names[start].external_attr >> 16) & 0o777
                if mode != 0o755:
                    failures.append(f"{dest}: {start} has mode {oct(mode)}, not 0755")
            start = "+".join(starts)
        binary = os.path.join(src, "bootstrap" if platform == "fc" else s)
        ok, why = is_static(binary)
        if not ok:
            failures.append(f"{binary}: {why}")
        if size > max_bytes:
            failures.append(f"{dest}: {size} bytes, over {max_bytes}")
        print(f"{dest:32} {size / 1048576:6.2f} MB  {start} 0755  {why}")

if failures:
    print("\n".join(["package checks failed:"] + failures), file=sys.stderr)
    sys.exit(1)
print("all packages checked: static, 0755 start files, within 15 MB")
PY
