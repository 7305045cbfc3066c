"""What grows with the length of a session: one profile with short sessions, one with long ones (issue 25).

    .venv/bin/python -m bench.session_profile --json results/session-profile.json          # this checkout
    .venv/bin/python -m bench.session_profile --root /tmp/before --json results/before.json  # another checkout
    .venv/bin/python -m bench.session_profile --render results/before.json results/session-profile.json

A turn of Rasa works on the current session (``SESSION_MAX_TURNS`` customer messages at most): the tracker
store reads it, the policies replay it, every action call sends it.  So the cost of a turn depends on where
in its session the turn falls, which is what the 200-turn growth of ``bench.latency`` sees.  Here the same
40-turn conversations (the mixed conversation of ``bench.flamegraphs`` eight times; 4 at a time) are profiled
twice with ``bench.flamegraphs.profile`` (py-spy on both servers): with ``SESSION_MAX_TURNS=5`` (a turn sees
at most 4 earlier messages) and with ``SESSION_MAX_TURNS=40`` (up to 39).  The difference per cost category
is what a longer session adds.  ``--render`` writes the before/after table between the ``session-profile``
markers of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from bench.docs import BENCH_DOC, replace_section
from bench.flamegraphs import IDLE, MIXED, profile
from harness.paths import ROOT

START, END = "<!-- session-profile:start -->", "<!-- session-profile:end -->"
SHORT, LONG = 5, 40


def measure(root: Path, seconds: int, concurrency: int) -> Dict[str, Any]:
    (name, turns), = MIXED.items()
    flows = {name: turns * (LONG // len(turns))}
    args = argparse.Namespace(seconds=seconds, rate=50, concurrency=concurrency)
    runs = {f"s{n}": profile(args, ROOT / "results" / f"session-profile-s{n}", {"SESSION_MAX_TURNS": str(n)},
                             flows=flows, root=root) for n in (SHORT, LONG)}
    return {"root": str(root), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), **runs}


def _ms(run: Dict[str, Any], process: str, category: str) -> float:
    return float(run[process].get(category, {}).get("cpu_ms_per_turn", 0.0))


def rows(before: Dict[str, Any], after: Dict[str, Any], process: str = "rasa_server") -> List[str]:
    s, lg = f"s{SHORT}", f"s{LONG}"
    cats = {c for d in (before, after) for r in (s, lg) for c in d[r][process] if c != IDLE}
    grown = sorted(cats, key=lambda c: -(_ms(before[lg], process, c) - _ms(before[s], process, c)))
    out = [f"| cost ({process.replace('_', ' ')}) | before: sessions of {SHORT} / {LONG} | grows by | "
           f"after: sessions of {SHORT} / {LONG} | grows by |", "|---|---:|---:|---:|---:|"]
    for c in grown:
        b0, b1, a0, a1 = (_ms(before[s], process, c), _ms(before[lg], process, c), _ms(after[s], process, c),
                          _ms(after[lg], process, c))
        if max(b0, b1, a0, a1) >= 0.2:
            out.append(f"| {c} | {b0:.2f} / {b1:.2f} | {b1 - b0:+.2f} | {a0:.2f} / {a1:.2f} | {a1 - a0:+.2f} |")
    total = {k: sum(v["cpu_ms_per_turn"] for c, v in d[r][process].items() if c != IDLE)
             for k, d, r in (("b0", before, s), ("b1", before, lg), ("a0", after, s), ("a1", after, lg))}
    out.append(f"| **total busy** | **{total['b0']:.1f} / {total['b1']:.1f}** | **{total['b1'] - total['b0']:+.1f}** | "
               f"**{total['a0']:.1f} / {total['a1']:.1f}** | **{total['a1'] - total['a0']:+.1f}** |")
    return out


def section(before: Dict[str, Any], after: Dict[str, Any]) -> str:
    def run(d: Dict[str, Any], r: str) -> str:
        x = d[r]
        return (f"{x['turns_ok']} turns, p50 {x['latency']['p50_ms']} ms, p95 {x['latency']['p95_ms']} ms, "
                f"load {x['load_average_at_start'][0]}")
    return "\n".join([
        START, "## Where a turn's CPU goes within a session (issue 25, `bench.session_profile`)", "",
        "Commands: `.venv/bin/python -m bench.session_profile --root <checkout> --json <file>` for each build, then "
        "`--render <before.json> <after.json>`. The same 40-turn conversations (the mixed conversation eight "
        f"times, 4 at a time, 40 s of py-spy at 50 Hz on both servers), once with `SESSION_MAX_TURNS={SHORT}` and "
        f"once with `SESSION_MAX_TURNS={LONG}`: busy ms per turn, ranked by what a long session added before.",
        "", f"- before ({before['date']}, `{before['root']}`): sessions of {SHORT}: {run(before, f's{SHORT}')}; "
        f"of {LONG}: {run(before, f's{LONG}')}",
        f"- after ({after['date']}, `{after['root']}`): sessions of {SHORT}: {run(after, f's{SHORT}')}; "
        f"of {LONG}: {run(after, f's{LONG}')}", "", *rows(before, after), "", END])


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to run (default: this one)")
    parser.add_argument("--seconds", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--json", type=Path, help="where to write the results")
    parser.add_argument("--render", type=Path, nargs=2, metavar=("BEFORE", "AFTER"),
                        help="only write the docs section from two saved results")
    args = parser.parse_args(argv)
    if args.render:
        before, after = (json.loads(p.read_text(encoding="utf-8")) for p in args.render)
        replace_section(section(before, after), START, END, BENCH_DOC)
        print(f">> updated {BENCH_DOC.relative_to(ROOT)}", file=sys.stderr)
        return 0
    result = measure(args.root.resolve(), args.seconds, args.concurrency)
    text = json.dumps(result, ensure_ascii=False, indent=1)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
