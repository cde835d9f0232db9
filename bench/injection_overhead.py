"""Measure what `inject_vault_init` adds to the stock worker-pod build.

Builds the same realistic worker pod with the real `PodGenerator.construct_pod`, with and
without injection, interleaved in one process so both see the same machine state, and
prints the median times and their ratio. Target: the ratio stays at or below 1.02.

    python bench/injection_overhead.py [--rounds N]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from airflow_vault_provider.injection import inject_vault_init
from tests.support.pods import settings, worker_pod


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3000, help="pods built per variant")
    args = parser.parse_args()

    config = settings(secrets='{"db.json": "secret/data/db"}')
    for _ in range(200):
        inject_vault_init(worker_pod(), config)

    stock, injected, inject_only = [], [], []
    gc.disable()
    for round_number in range(args.rounds):
        # Alternate which variant goes first, so neither always runs on a warmer cache.
        order = (False, True) if round_number % 2 == 0 else (True, False)
        for with_injection in order:
            start = time.perf_counter()
            pod = worker_pod()
            built = time.perf_counter()
            if with_injection:
                inject_vault_init(pod, config)
                done = time.perf_counter()
                injected.append(done - start)
                inject_only.append(done - built)
            else:
                stock.append(built - start)
        if round_number % 100 == 0:
            gc.collect()
    gc.enable()

    stock_median = statistics.median(stock)
    injected_median = statistics.median(injected)
    print(f"rounds per variant:         {args.rounds}")
    print(f"stock construct_pod median: {stock_median * 1e3:.3f} ms")
    print(f"with injection median:      {injected_median * 1e3:.3f} ms")
    print(f"inject_vault_init median:   {statistics.median(inject_only) * 1e6:.1f} us")
    print(f"ratio (with / stock):       {injected_median / stock_median:.4f}  (target <= 1.02)")


if __name__ == "__main__":
    main()
