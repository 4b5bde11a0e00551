"""Benchmark the Merkle log: batched appends, proof generation and verification.

Run: ``.venv/bin/python bench/ledger/bench_merkle.py`` (1,000,000 entries; about a minute
on one core). ``--entries 100000`` for a quick look. Results go to docs/benchmarks-ledger.md.
"""

from __future__ import annotations

import argparse
import platform
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence

from loupe.ledger.merkle import InMemoryTreeStore, MerkleLog
from loupe.ledger.verify import hash_leaf, verify_consistency, verify_inclusion


def percentiles(samples_s: Sequence[float]) -> tuple[float, float]:
    """p50 and p99 in microseconds."""
    ordered = sorted(samples_s)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return p50 * 1e6, p99 * 1e6


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    n, batch = args.entries, args.batch

    print(f"python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    print(f"entries={n:,} batch={batch:,} samples={args.samples:,} seed={args.seed}")

    # Leaves about the size of a canonical payment entry (~330 bytes).
    template = b"x" * 320
    store = InMemoryTreeStore()
    log = MerkleLog(store)
    append_time = 0.0
    checkpoints = sorted({n // 10 * k for k in range(1, 11)} | {n})
    next_report = 0
    for first in range(0, n, batch):
        leaves = [template + b"%010d" % i for i in range(first, min(first + batch, n))]
        began = time.perf_counter()
        log.append_many(leaves)
        append_time += time.perf_counter() - began
        done = first + len(leaves)
        if next_report < len(checkpoints) and done >= checkpoints[next_report]:
            print(f"  appended {done:>9,}: {done / append_time:>10,.0f} appends/s cumulative")
            next_report += 1
    print(f"batched appends: {n / append_time:,.0f} appends/s ({append_time:.1f} s in total)")

    single = MerkleLog(InMemoryTreeStore())
    count = min(20_000, n)
    t = timed(lambda: [single.append(template + b"%010d" % i) for i in range(count)])
    print(f"one-by-one appends (batch of 1): {count / t:,.0f} appends/s over {count:,}")

    indices = [rng.randrange(n) for _ in range(args.samples)]
    gen: list[float] = []
    full: list[float] = []
    ver: list[float] = []
    sizes: list[int] = []
    for index in indices:
        start = time.perf_counter()
        path = log.inclusion_proof(index)
        gen.append(time.perf_counter() - start)
        start = time.perf_counter()
        proof = log.prove_inclusion(index)
        full.append(time.perf_counter() - start)
        leaf = hash_leaf(template + b"%010d" % index)
        start = time.perf_counter()
        verify_inclusion(leaf, index, n, path, proof.root)
        ver.append(time.perf_counter() - start)
        sizes.append(len(path))
    print(
        "inclusion proof generation (path only): p50 {:.1f} us, p99 {:.1f} us".format(
            *percentiles(gen)
        )
    )
    print(
        "inclusion proof + leaf + root, one fetch: p50 {:.1f} us, p99 {:.1f} us".format(
            *percentiles(full)
        )
    )
    print("inclusion verification: p50 {:.1f} us, p99 {:.1f} us".format(*percentiles(ver)))
    print(
        f"inclusion proof size at {n:,}: min {min(sizes)}, mean {statistics.mean(sizes):.2f}, "
        f"max {max(sizes)} hashes ({max(sizes) * 32} bytes)"
    )

    cgen: list[float] = []
    cver: list[float] = []
    csizes: list[int] = []
    for _ in range(min(args.samples, 2_000)):
        size1 = rng.randrange(1, n)
        start = time.perf_counter()
        cp = log.prove_consistency(size1)
        cgen.append(time.perf_counter() - start)
        start = time.perf_counter()
        verify_consistency(cp.size1, cp.size2, cp.path, cp.root1, cp.root2)
        cver.append(time.perf_counter() - start)
        csizes.append(len(cp.path))
    print("consistency proof + both roots: p50 {:.1f} us, p99 {:.1f} us".format(*percentiles(cgen)))
    print("consistency verification: p50 {:.1f} us, p99 {:.1f} us".format(*percentiles(cver)))
    print(f"consistency proof size: max {max(csizes)} hashes")
    nodes = sum(len(level) for level in store._levels) // 32
    print(f"stored nodes: {nodes:,} ({nodes / n:.3f} per entry, {nodes * 32 / 2**20:.1f} MiB)")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of the benchmark process: {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main(sys.argv[1:])
