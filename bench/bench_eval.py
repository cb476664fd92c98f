"""The eval runner under load (issue 13, DESIGN.md section 6: an eval over a model answering in
100 ms at concurrency 20 must finish within 1.3x of calls x latency / concurrency).

    python bench/bench_eval.py [--rows 400] [--concurrency 20] [--latency 0.1]
                               [--server process|thread] [--task async|sync] [--json]

An Eval of ``--rows`` rows whose task calls the local model server once through
``bt_tui.acompletion`` (``--task sync``: ``bt_tui.completion`` from the run's task threads),
with ``max_concurrency`` = ``--concurrency`` and one scorer (ExactMatch), run by
engine.evals.run_eval into a fresh database: every row a trace (eval, task, llm, score spans)
written by the TraceWriter. The server is tests/llm_server.py's FakeLLMServer in a child process
(``--server process``, the default, as bench_llm.py) so its CPU does not share our GIL.

Prints the wall time (first request to last response, and the whole run including the store's
writes), the ideal (calls x latency / concurrency) and their ratios. litellm is loaded (and
warmed) before anything is timed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from bench_llm import Server  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=400)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--server", choices=("thread", "process"), default="process")
    ap.add_argument("--task", choices=("async", "sync"), default="async")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import bt_tui
    from engine import evals as ev
    from engine.llm import _litellm
    from store import Store
    from store.model_configs import add_model

    t0 = time.perf_counter()
    _litellm()
    load = time.perf_counter() - t0

    calls: list = []

    async def atask(input):
        answer = await bt_tui.acompletion(model="bench", messages=[{"role": "user", "content": input}])
        calls.append(answer.call)
        return str(answer)

    def stask(input):
        answer = bt_tui.completion(model="bench", messages=[{"role": "user", "content": input}])
        calls.append(answer.call)
        return str(answer)

    data = [{"input": f"question {i}", "expected": f"echo: question {i}"} for i in range(args.rows)]
    with tempfile.TemporaryDirectory() as tmp, Server(args.server, args.latency) as server:
        db = os.path.join(tmp, "bench.db")
        store = Store(db)
        add_model(store, "bench", "openai/gpt-4o-mini", api_base=server.base_url)
        defn = ev.make_eval_def("bench", data, atask if args.task == "async" else stask, ["ExactMatch"],
                                max_concurrency=args.concurrency)

        async def go():
            start = time.perf_counter()
            res = await ev.run_eval(defn, store, db_path=db)
            return res, time.perf_counter() - start

        res, total = asyncio.run(go())
        store.close()
    first = min(c.start for c in calls)
    last = max(c.end for c in calls)
    wall = last - first
    ideal = len(calls) * args.latency / args.concurrency
    out = {"rows": args.rows, "calls": len(calls), "concurrency": args.concurrency, "latency": args.latency,
           "server": args.server, "task": args.task, "litellm_load": round(load, 3), "wall": round(wall, 3),
           "run": round(total, 3), "ideal": round(ideal, 3), "ratio": round(wall / ideal, 3),
           "run_ratio": round(total / ideal, 3), "errors": res.experiment.errors, "rows_stored": res.experiment.rows,
           "exact_match": res.experiment.scores.get("ExactMatch")}
    if args.json:
        print(json.dumps(out))
    else:
        print(f"eval of {args.rows} rows ({args.task} task, one call each), concurrency {args.concurrency}, "
              f"server latency {args.latency * 1000:.0f} ms ({args.server}); litellm load {load:.2f} s")
        print(f"  wall (first request to last response)  {wall:6.2f} s")
        print(f"  whole run (incl. traces stored)         {total:6.2f} s")
        print(f"  ideal (calls x latency / concurrency)   {ideal:6.2f} s")
        print(f"  ratio                                   {wall / ideal:6.2f}x  (budget 1.3x; whole run "
              f"{total / ideal:.2f}x)")
        print(f"  rows stored {res.experiment.rows}, errors {res.experiment.errors}, "
              f"ExactMatch {out['exact_match']}")
    return 0 if res.experiment.errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
