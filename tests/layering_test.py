"""The dependency rules of docs/ARCHITECTURE.md, enforced: every
`#include "folder/..."` in src/<folder>/ must name the folder itself, the
public API (ragd/) or a folder its row of the "Dependency rules" table
allows. Also fails when a folder of src/ has no row.

Usage: layering_test.py SOURCE_DIR
"""
import os
import re
import sys

SRC = os.path.abspath(sys.argv[1])


def rules():
    text = open(os.path.join(SRC, "docs", "ARCHITECTURE.md"), encoding="utf-8").read()
    section = text.split("## Dependency rules", 1)[1].split("\n## ", 1)[0]
    allowed = {}
    for m in re.finditer(r"^\| `(\w+)` \| (.+?) \|$", section, re.M):
        allowed[m.group(1)] = set(re.findall(r"`(\w+)`", m.group(2)))
    return allowed


def main():
    allowed = rules()
    if not allowed:
        print("FAIL: no 'Dependency rules' table in docs/ARCHITECTURE.md")
        return 1
    problems = []
    src = os.path.join(SRC, "src")
    for folder in sorted(os.listdir(src)):
        path = os.path.join(src, folder)
        if not os.path.isdir(path):
            continue
        if folder not in allowed:
            problems.append(f"src/{folder}/ has no row in docs/ARCHITECTURE.md's dependency rules")
            continue
        for name in sorted(os.listdir(path)):
            if not name.endswith((".h", ".cc")):
                continue
            for n, line in enumerate(open(os.path.join(path, name), encoding="utf-8"), 1):
                m = re.match(r'\s*#\s*include\s+"(\w+)/', line)
                if not m:
                    continue
                dep = m.group(1)
                if dep not in (folder, "ragd") and dep not in allowed[folder]:
                    problems.append(f"src/{folder}/{name}:{n} includes {dep}/, which {folder}/ may not")
    for p in problems:
        print("FAIL: " + p)
    print(f"layering: {len(allowed)} folders, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
