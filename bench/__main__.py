"""Run benchmarks and keep their figures.

Each benchmark is a module ``bench/<name>.py`` with ``run() -> list[Figure]``.
Results go to ``bench/results/<name>.json`` (metric, value, unit, target,
pass, machine, date) and the table in docs/performance.md is rebuilt from all
result files, so the docs only ever show measured figures."""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
DOC = BENCH_DIR.parent / "docs" / "performance.md"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {round(kib / 1024 / 1024)} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores {cpu}{memory}, Python {platform.python_version()}"


def available() -> list[str]:
    return sorted(p.stem for p in BENCH_DIR.glob("*.py") if not p.stem.startswith("_"))


def run_one(name: str) -> list[dict]:
    module = importlib.import_module(f"bench.{name}")
    figures = module.run()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    # The knobs this run was given belong to the command that reproduces it.
    knobs = " ".join(f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("BENCH_"))
    rows = [
        {
            **f,
            "pass": bool(f["pass"]),
            "machine": machine(),
            "date": stamp,
            "command": f"{knobs} make bench NAME={name}".strip(),
        }
        for f in figures
    ]
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(rows, indent=2) + "\n")
    for row in rows:
        mark = "PASS" if row["pass"] else "FAIL"
        print(
            f"[{mark}] {name}: {row['metric']} = {row['value']} {row['unit']} (target {row['target']})"
        )
    return rows


def write_doc() -> None:
    lines = [
        "# Performance",
        "",
        "Figures measured by `make bench` (one benchmark: `make bench NAME=<name>`);",
        "this table is rebuilt from `bench/results/*.json` after every run.",
        "",
        "| benchmark | metric | value | target | pass | machine | date |",
        "|---|---|---|---|---|---|---|",
    ]
    for path in sorted(RESULTS_DIR.glob("*.json")):
        for row in json.loads(path.read_text()):
            lines.append(
                f"| {path.stem} | {row['metric']} | {row['value']} {row['unit']} | {row['target']} | "
                f"{'yes' if row['pass'] else 'no'} | {row['machine']} | {row['date']} |"
            )
    DOC.write_text("\n".join(lines) + "\n")


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desk.settings")
    os.environ.setdefault("DEBUG", "1")
    names = argv or available()
    unknown = [n for n in names if n not in available()]
    if unknown:
        print(f"Unknown benchmark(s): {', '.join(unknown)}. Available: {', '.join(available())}")
        return 2
    failed = False
    for name in names:
        rows = run_one(name)
        failed = failed or not all(r["pass"] for r in rows)
    write_doc()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
