"""`make bench`: run every ``bench/bench_*.py`` in turn and keep their figures.

Each benchmark prints human-readable lines and, last, one JSON object with its figures;
this runner collects those objects into ``bench/results/latest.json`` so the README's figures
can be traced to a run.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def last_json_line(output: str) -> dict[str, object] | None:
    for line in reversed(output.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(data, dict):
                return data
    return None


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem for p in HERE.glob("bench_*.py"))
    out = HERE / "results" / "latest.json"
    # Running some benchmarks keeps the others' last figures: each entry says when it ran.
    results: dict[str, object] = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    results["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count()}
    failed = []
    for name in names:
        script = HERE / f"{name}.py"
        print(f"== {name}", flush=True)
        proc = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, check=False
        )
        sys.stdout.write(proc.stdout)
        if proc.returncode != 0:
            sys.stdout.write(proc.stderr[-4000:])
            failed.append(name)
            continue
        figures = last_json_line(proc.stdout) or {}
        figures["ran_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        results[name] = figures
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"figures written to {out}")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
