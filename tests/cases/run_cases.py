"""Runs the *.case files under tests/cases (format in README.md) against a
built ragd: one knowledge base of the example documents, every case's
command, its exit code, ranking and messages checked. Prints one line per
failing case and exits 1 if any failed.

Usage: run_cases.py RAGD SOURCE_DIR
"""
import glob
import json
import os
import shlex
import subprocess
import sys
import tempfile

RAGD, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
KEYS = {"run", "exit", "ranking", "stdout", "stderr"}


def read_case(path):
    case = {"stdout": [], "stderr": []}
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if not sep or key not in KEYS:
            raise ValueError(f"{path}:{n}: expected 'key: value' with key one of {sorted(KEYS)}")
        if key in ("stdout", "stderr"):
            case[key].append(value)
        elif key in case:
            raise ValueError(f"{path}:{n}: '{key}' given twice")
        else:
            case[key] = value
    if "run" not in case:
        raise ValueError(f"{path}: no 'run' line")
    return case


def check(case, env):
    p = subprocess.run([RAGD, *shlex.split(case["run"])], env=env, capture_output=True, text=True, timeout=300, cwd=SRC)
    problems = []
    want_exit = int(case.get("exit", "0"))
    if p.returncode != want_exit:
        problems.append(f"exit {p.returncode}, expected {want_exit}")
    for text in case["stdout"]:
        if text not in p.stdout:
            problems.append(f"stdout lacks {text!r}")
    for text in case["stderr"]:
        if text not in p.stderr:
            problems.append(f"stderr lacks {text!r}: {p.stderr.strip()[:300]!r}")
    if "ranking" in case:
        want = case["ranking"].split()
        try:
            got = [os.path.basename(h["source"]) for h in json.loads(p.stdout)["results"]]
        except (ValueError, KeyError) as e:
            problems.append(f"no JSON results ({e}): {p.stdout[:200]!r}")
        else:
            if got[:len(want)] != want:
                problems.append(f"ranking {got}, expected {want} first")
    return problems


def main():
    cases = sorted(glob.glob(os.path.join(SRC, "tests", "cases", "**", "*.case"), recursive=True))
    if not cases:
        print("no cases found")
        return 1
    with tempfile.TemporaryDirectory() as data:
        env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "OLLAMA_HOST")}
        env["RAGD_DATA_DIR"] = data
        subprocess.run([RAGD, "-q", "ingest", os.path.join(SRC, "examples", "bank-kb"), "--kb", "bank"],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        failed = 0
        for path in cases:
            name = os.path.relpath(path, os.path.join(SRC, "tests", "cases"))
            try:
                problems = check(read_case(path), env)
            except (ValueError, subprocess.TimeoutExpired) as e:
                problems = [str(e)]
            if problems:
                failed += 1
                print(f"FAIL {name}: " + "; ".join(problems))
        print(f"cases: {len(cases) - failed} passed, {failed} failed")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
