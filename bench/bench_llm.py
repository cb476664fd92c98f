"""The model client under load (issue 12, DESIGN.md section 6: a run over a model answering in
100 ms at concurrency 20 must finish within 1.3x of calls x latency / concurrency).

    python bench/bench_llm.py [--rows 200] [--variants 2] [--concurrency 20] [--latency 0.1]
                              [--server thread|process] [--json]

Starts tests/llm_server.py's FakeLLMServer (``--latency`` per request; ``--server process`` runs
it in a child process so its CPU does not share our GIL) and sends ``variants x rows`` calls
through engine.llm.LLMClient (no TUI), all at once, bounded by ``--concurrency``:

  plain      the calls answered normally;
  stream     the same with ``on_delta`` (SSE, usage in the last chunk);
  faults     10% of requests answer 500 and 5% answer 429 (Retry-After: 0), drawn at random
             per request (so a retry usually succeeds), with the client's default retries;
  httpx      the floor of this harness: the same calls as bare httpx POSTs (no litellm, no
             client), to tell the server's and Python's share from litellm's.

For each: wall time (first request to last response), the ideal (calls x latency /
concurrency), their ratio, and the client-side overhead per call (latency - server latency)
at p50/p95. litellm is loaded (and warmed, see engine.llm._litellm) before anything is timed;
the load time is printed on its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from engine.llm import LLMClient, ModelSpec, _litellm  # noqa: E402
from llm_server import FakeLLMServer  # noqa: E402

SYSTEMS = [
    "You are a support agent for Acme. Answer briefly and politely.",
    "You are Acme's support bot. Give a step-by-step answer and link the docs.",
    "You are a terse assistant.",
    "You are a friendly assistant who explains everything.",
]


def faults(seed: int = 12):
    """fail_when predicate: 10% of requests 500, 5% 429 (Retry-After 0), at random."""
    rng = random.Random(seed)
    lock = threading.Lock()

    def decide(_request: dict):
        with lock:
            x = rng.random()
        if x < 0.10:
            return "500"
        if x < 0.15:
            return "429"
        return None

    return decide


def _serve(latency: float, faulty: bool, conn, stop) -> None:
    server = FakeLLMServer(latency=latency).start()
    if faulty:
        server.fail_when(faults())
    conn.send(server.base_url)
    stop.wait()
    server.stop()


class Server:
    """The fake server in this process (a thread) or in a child process (``--server process``)."""

    def __init__(self, mode: str, latency: float, faulty: bool = False):
        self.mode, self.latency, self.faulty = mode, latency, faulty

    def __enter__(self):
        if self.mode == "thread":
            self.fake = FakeLLMServer(latency=self.latency).start()
            if self.faulty:
                self.fake.fail_when(faults())
            self.base_url = self.fake.base_url
        else:
            ctx = mp.get_context("spawn")
            parent, child = ctx.Pipe()
            self.stop = ctx.Event()
            self.proc = ctx.Process(target=_serve, args=(self.latency, self.faulty, child, self.stop), daemon=True)
            self.proc.start()
            self.base_url = parent.recv()
        return self

    def __exit__(self, *exc):
        if self.mode == "thread":
            self.fake.stop()
        else:
            self.stop.set()
            self.proc.join(timeout=10)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def calls(rows: int, variants: int) -> list[list[dict]]:
    out = []
    for v in range(variants):
        for r in range(rows):
            out.append([{"role": "system", "content": SYSTEMS[v % len(SYSTEMS)]},
                        {"role": "user", "content": f"Row {r}: how do I reset my password on account {r * 7919 % 1000}?"}])
    return out


async def run_client(spec: ModelSpec, msgs: list[list[dict]], concurrency: int, latency: float, *,
                     stream: bool = False, client: LLMClient | None = None) -> dict:
    client = client or LLMClient(concurrency=concurrency, timeout=30)
    deltas = [0]

    def on_delta(_text: str) -> None:
        deltas[0] += 1

    cpu0 = time.process_time()
    t0 = time.time()
    results = await asyncio.gather(*(client.complete(spec, m, on_delta=on_delta if stream else None) for m in msgs))
    t1 = time.time()
    cpu = time.process_time() - cpu0
    ok = [r for r in results if r.error is None]
    first = min(r.start for r in results)
    wall = max(r.end for r in results) - first
    overhead = [r.latency - latency for r in ok if r.attempts == 1]
    return {
        "calls": len(results), "ok": len(ok), "errors": len(results) - len(ok),
        "retried": sum(1 for r in results if r.attempts > 1), "attempts": sum(r.attempts for r in results),
        "wall": wall, "gather": t1 - t0, "cpu_per_call_ms": 1000 * cpu / len(results),
        "p50_ms": 1000 * pct(overhead, 50), "p95_ms": 1000 * pct(overhead, 95),
        "deltas": deltas[0] if stream else None,
        "tokens": sum(r.tokens or 0 for r in ok),
        "error_kinds": sorted({(r.error or "")[:80] for r in results if r.error}),
    }


async def run_httpx(base_url: str, msgs: list[list[dict]], concurrency: int, latency: float) -> dict:
    import httpx

    sem = asyncio.Semaphore(concurrency)
    lat: list[float] = []
    starts: list[float] = []
    ends: list[float] = []
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=concurrency * 2), timeout=30) as http:
        async def one(m):
            async with sem:
                s = time.time()
                r = await http.post(base_url + "/chat/completions", json={"model": "fake", "messages": m},
                                    headers={"Authorization": "Bearer sk-bench"})
                r.json()
                e = time.time()
                starts.append(s)
                ends.append(e)
                lat.append(e - s - latency)

        cpu0 = time.process_time()
        await asyncio.gather(*(one(m) for m in msgs))
        cpu = time.process_time() - cpu0
    return {"calls": len(msgs), "ok": len(msgs), "errors": 0, "retried": 0, "attempts": len(msgs),
            "wall": max(ends) - min(starts), "cpu_per_call_ms": 1000 * cpu / len(msgs),
            "p50_ms": 1000 * pct(lat, 50), "p95_ms": 1000 * pct(lat, 95)}


async def main_async(args) -> dict:
    os.environ.setdefault("BT_BENCH_KEY", "sk-bench-not-a-secret")
    t = time.perf_counter()
    _litellm()  # load + warm once, not timed below
    load_s = time.perf_counter() - t
    msgs = calls(args.rows, args.variants)
    ideal = len(msgs) * args.latency / args.concurrency
    out = {"load_s": load_s, "ideal": ideal, "phases": {}}
    client = LLMClient(concurrency=args.concurrency, timeout=30)

    def spec_for(server: Server) -> ModelSpec:
        return ModelSpec(name="bench", model="openai/gpt-4o-mini", api_base=server.base_url, key_env="BT_BENCH_KEY",
                         input_price=0.15, output_price=0.6)

    with Server(args.server, args.latency) as server:
        spec = spec_for(server)
        warm = await client.complete(spec, msgs[0])  # one warm call: the HTTP pool and the loop are up
        if warm.error:
            raise SystemExit(f"the warm-up call failed: {warm.error}")
        out["phases"]["httpx"] = await run_httpx(server.base_url, msgs, args.concurrency, args.latency)
        out["phases"]["plain"] = await run_client(spec, msgs, args.concurrency, args.latency, client=client)
        out["phases"]["stream"] = await run_client(spec, msgs, args.concurrency, args.latency, stream=True,
                                                   client=client)
    with Server(args.server, args.latency, faulty=True) as server:
        out["phases"]["faults"] = await run_client(spec_for(server), msgs, args.concurrency, args.latency,
                                                   client=client)
    for p in out["phases"].values():
        p["ratio"] = p["wall"] / ideal
    return out


def table(out: dict, args) -> str:
    lines = [
        f"{args.variants} variants x {args.rows} rows = {args.variants * args.rows} calls, concurrency "
        f"{args.concurrency}, server latency {args.latency * 1000:.0f} ms ({args.server}); "
        f"ideal {out['ideal']:.2f} s; litellm load+warm {out['load_s']:.1f} s (not timed)",
        "",
        "| phase | wall s | ratio | overhead p50 ms | p95 ms | CPU ms/call | ok / errors | retried (attempts) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, p in out["phases"].items():
        lines.append(f"| {name} | {p['wall']:.2f} | {p['ratio']:.2f}x | {p['p50_ms']:.1f} | {p['p95_ms']:.1f} | "
                     f"{p['cpu_per_call_ms']:.1f} | {p['ok']} / {p['errors']} | {p['retried']} ({p['attempts']}) |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=200)
    ap.add_argument("--variants", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--server", choices=("thread", "process"), default="thread")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    out = asyncio.run(main_async(args))
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(table(out, args))
    plain = out["phases"]["plain"]["ratio"]
    print(f"\nbudget 1.3x: plain {'met' if plain <= 1.3 else 'MISSED'} ({plain:.2f}x)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
