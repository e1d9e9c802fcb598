"""Parsing benchmark over tests/corpus: mailbot's parser against a dateparser baseline.

    .venv/bin/python bench/parse.py [--corpus DIR] [--no-write]

Prints a table and rewrites the "## Parsing" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mailbot.understand import decode, parse_message  # noqa: E402
from mailbot.understand.quotes import split_reply  # noqa: E402
from mailbot.understand.vocabulary import vocabulary  # noqa: E402

TODAY = date(2026, 11, 23)
FIELDS = ("intent", "start", "end", "party_size", "first_name", "comment")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _load(corpus: Path) -> list[tuple[str, bytes, dict[str, Any]]]:
    items = []
    for eml in sorted(corpus.glob("*.eml")):
        label = eml.with_suffix(".json")
        if label.exists():
            items.append((eml.stem, eml.read_bytes(), json.loads(label.read_text("utf-8"))))
    return items


def run_mailbot(items: list[tuple[str, bytes, dict[str, Any]]]) -> dict[str, Any]:
    for _, raw, _ in items[:5]:  # warm the compiled patterns
        parse_message(raw, TODAY)
    times: list[float] = []
    exact = dates_ok = 0
    field_ok = dict.fromkeys(FIELDS, 0)
    misses: list[str] = []
    for stem, raw, label in items:
        t0 = time.perf_counter()
        got = parse_message(raw, TODAY).as_json()
        times.append(time.perf_counter() - t0)
        wrong = [f for f in FIELDS if got[f] != label.get(f)]
        for f in FIELDS:
            field_ok[f] += f not in wrong
        exact += not wrong
        dates_ok += "start" not in wrong and "end" not in wrong
        if wrong:
            misses.append(f"{stem}: {', '.join(wrong)}")
    return {"exact": exact, "dates": dates_ok, "fields": field_ok, "times": times,
            "misses": misses}


def run_baseline(items: list[tuple[str, bytes, dict[str, Any]]]) -> dict[str, Any]:
    t0 = time.perf_counter()
    from dateparser.search import search_dates  # the import alone takes a while

    import_s = time.perf_counter() - t0
    vocab = vocabulary()
    settings = {"RELATIVE_BASE": datetime.combine(TODAY, datetime.min.time()),
                "PREFER_DATES_FROM": "future"}
    texts = []
    for _, raw, label in items:
        decoded = decode(raw)
        texts.append((split_reply(decoded.text, vocab).text, label))
    search_dates(texts[0][0] or "heute", languages=["de"], settings=settings)  # warm up
    times: list[float] = []
    dates_ok = 0
    for text, label in texts:
        t = time.perf_counter()
        try:
            found = search_dates(text, languages=["de"], settings=settings) or []
        except Exception:
            found = []
        times.append(time.perf_counter() - t)
        start = found[0][1].date().isoformat() if len(found) >= 1 else None
        end = found[1][1].date().isoformat() if len(found) >= 2 else None
        dates_ok += start == label.get("start") and end == label.get("end")
    return {"dates": dates_ok, "times": times, "import_s": import_s}


def _machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} × {model}, Python {platform.python_version()}"


def _write_results(section: str) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    text = path.read_text("utf-8") if path.exists() else "# Benchmark results\n"
    pattern = re.compile(r"^## Parsing\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, "utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=ROOT / "tests" / "corpus")
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args()
    items = _load(args.corpus)
    if not items:
        print(f"no labelled messages in {args.corpus}")
        return 1
    n = len(items)
    ours = run_mailbot(items)
    base = run_baseline(items)
    ms = 1000.0
    our_median = statistics.median(ours["times"]) * ms
    base_median = statistics.median(base["times"]) * ms
    rows = [
        ("", "mailbot", "dateparser baseline"),
        ("exact match (all six fields)", f"{ours['exact'] / n:.1%} ({ours['exact']}/{n})", "–"),
        ("dates right (start and end)", f"{ours['dates'] / n:.1%} ({ours['dates']}/{n})",
         f"{base['dates'] / n:.1%} ({base['dates']}/{n})"),
        ("median per message", f"{our_median:.3f} ms", f"{base_median:.3f} ms"),
        ("p99 per message", f"{_percentile(ours['times'], 0.99) * ms:.3f} ms",
         f"{_percentile(base['times'], 0.99) * ms:.3f} ms"),
        ("speed-up (median)", f"{base_median / our_median:.0f}×", "1×"),
    ]
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    table = "\n".join(
        "| " + " | ".join(c.ljust(width[i]) for i, c in enumerate(r)) + " |"
        + ("\n|" + "|".join("-" * (w + 2) for w in width) + "|" if k == 0 else "")
        for k, r in enumerate(rows))
    fields = ", ".join(f"{f} {ours['fields'][f] / n:.1%}" for f in FIELDS)
    print(table)
    print(f"\nper field: {fields}")
    print(f"dateparser import: {base['import_s']:.2f} s (not counted per message)")
    if ours["misses"]:
        print("\nnot exact:\n  " + "\n  ".join(ours["misses"]))
    if not args.no_write:
        section = (
            "## Parsing\n\n"
            f"`{' '.join(['.venv/bin/python', 'bench/parse.py'])}` on {date.today().isoformat()}"
            f" — {n} labelled messages in `tests/corpus/`, labelled as of {TODAY.isoformat()}.\n"
            f"Machine: {_machine()}.\n\n"
            "Timing is `time.perf_counter()` around `parse_message(raw, today)` on bytes already\n"
            "read (decode, quote stripping and all fields). The baseline gets the same decoded,\n"
            "quote-stripped text and takes the first two dates of `dateparser.search.search_dates`\n"
            "(`languages=[\"de\"]`, `RELATIVE_BASE` = today, `PREFER_DATES_FROM` = future) as\n"
            "start and end.\n\n"
            f"{table}\n\nPer field (mailbot): {fields}.\n\n"
            + ("Not exact: " + "; ".join(ours["misses"]) + ".\n" if ours["misses"] else "")
        )
        _write_results(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
