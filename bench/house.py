"""Measure the house: modules, function lengths, and how many places define each spine concept.

    python bench/house.py [--root .] [--json out.json]

Counts the project's own Python (customers, mlcore, campaigns, clmsite; migrations and tests
left out). A "place" is a line matching the concept's pattern; each pattern is printed beside
its count so the figure can be checked by hand (`grep -nE`). Issue #12 asks for the figures
before and after the spine redesign; docs/architecture.md keeps both.
"""
from __future__ import annotations

import argparse
import ast
import json
import re
import statistics
from pathlib import Path

APPS = ("infra", "customers", "mlcore", "campaigns", "clmsite")

# concept -> regular expressions whose matching lines are places that define it
CONCEPTS: dict[str, list[str]] = {
    "line amount (quantity x unit price)": [
        r"F\(\"quantity\"\)\s*\*\s*F\(\"unit_price\"\)",
        r"\[\"quantity\"\]\s*\*\s*\w*\[\"unit_price\"\]",
        r"quantity \* unit_price\)",
    ],
    "what a sale is": [
        r"quantity__gt=0",
        r"\[\"quantity\"\]\s*>\s*0",
        r"\[\"status\"\]\s*==\s*\"placed\"",
    ],
    "which orders count towards spend": [
        r"exclude\((order__)?status=Order\.Status\.CANCELLED\)",
        r"~Q\(order_lines__order__status=Order\.Status\.CANCELLED\)",
    ],
    "RecommendedProduct type": [r"^class RecommendedProduct\b"],
    "popularity fallback": [r"^def \w*popular\w*\("],
    "job failure marking": [r"def on_failure\(", r"def (failing_job|ensure_job)\(", r"def job_fail\("],
    "queue chosen at call site": [r"apply_async\([^)]*queue="],
    "settings default repeated (getattr)": [r"getattr\(settings,\s*\"[A-Z_]+\",\s*[^)]"],
    "bulk writer (COPY)": [r"\.copy\(f?[\"']COPY", r"\bCOPY \{", r"COPY \"\{"],
    # a Django-side step computing features from order lines itself instead of reading the stored snapshot
    "features built outside the snapshot": [
        r"(?<!def )\b(build_customer_features|customer_features|churn_features|model_features|horizon_features|signal_features)\(",
        r"(?<!def )\b(training_frame|labelled_frame)\((?!.*features)",
    ],
}
OUTSIDE_ML = {"features built outside the snapshot"}  # counted outside mlcore/ml (the pure builders themselves)


def project_files(root: Path) -> list[Path]:
    files = []
    for app in APPS:
        if not (root / app).is_dir():
            continue
        for path in sorted((root / app).rglob("*.py")):
            if "migrations" not in path.parts:
                files.append(path)
    return files


def function_lengths(files: list[Path]) -> list[int]:
    lengths = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lengths.append(node.end_lineno - node.lineno + 1)
    return lengths


def concept_places(files: list[Path], root: Path) -> dict[str, list[str]]:
    compiled = {name: [re.compile(p) for p in patterns] for name, patterns in CONCEPTS.items()}
    places: dict[str, list[str]] = {name: [] for name in CONCEPTS}
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for name, patterns in compiled.items():
                if name in OUTSIDE_ML and path.relative_to(root).parts[:2] == ("mlcore", "ml"):
                    continue
                if any(p.search(line.strip()) for p in patterns):
                    places[name].append(f"{path.relative_to(root)}:{number}")
    return places


def percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))])


def measure(root: Path) -> dict:
    files = project_files(root)
    lengths = function_lengths(files)
    places = concept_places(files, root)
    return {
        "modules": len(files),
        "lines": sum(len(p.read_text(encoding="utf-8").splitlines()) for p in files),
        "functions": len(lengths),
        "function_length_median": statistics.median(lengths),
        "function_length_p90": percentile(lengths, 0.9),
        "modules_over_400_lines": sorted(str(p.relative_to(root)) for p in files if len(p.read_text(encoding="utf-8").splitlines()) > 400),
        "places": places,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = measure(args.root.resolve())
    print(f"modules {result['modules']}, lines {result['lines']}, functions {result['functions']}, "
          f"function length median {result['function_length_median']}, p90 {result['function_length_p90']}")
    print(f"modules over 400 lines: {len(result['modules_over_400_lines'])} {result['modules_over_400_lines']}")
    for name, where in result["places"].items():
        print(f"{len(where):3d}  {name}: {', '.join(where)}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
