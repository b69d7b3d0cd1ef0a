#!/usr/bin/env python3
"""The simulated scaling study (README, "Simulated scaling study"): builds tools/scaling/proxy.cpp
with SimGrid's smpicxx, calibrates the per-pair and per-point compute times on this CPU with
`nwgf bench pairwise|sliced` (or reads a calibration JSON), runs the proxy under smpirun for
every (backend, d, schedule, N, P, platform) of the grid and writes

  OUT/calibration.json   the compute times used, with their sources
  OUT/scaling.csv        one row per simulation
  OUT/scaling.md         the tables (time per step and parallel efficiency vs P)
  OUT/*.png              the plots, drawn by `nwgf plot` from one metrics.csv per curve

Usage: tools/scaling/run_study.py --nwgf build/nwgf --out docs/scaling [--quick]
       tools/scaling/run_study.py --smoke DIR   (the ctest: a 4-node platform, one tiny case)
"""
import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# The GPU "on paper" (one NVIDIA H100 SXM per rank; the assumptions README states):
# FP32 67 TFLOP/s and FP64 34 TFLOP/s without tensor cores (NVIDIA's H100 datasheet), a pair of
# the exact gradient costs 3 d + 2 flops (the flop model of `nwgf bench sweep`).
GPU_PEAK = {"f32": 67e12, "f64": 34e12}
# d = 2: 1.5e12 pairs/s (f32), from the H200 measurement in README ("Python package"): nwgf.mmd2
# of 1e5 points, 3 x 1e10 pairs in 19.5 ms; the H200 has the H100's FP32 peak. f64 at half.
# d = 784: half the FMA peak (a register-tiled loop over the coordinates).
GPU_PAIRS_PER_S = {(2, "f32"): 1.5e12, (2, "f64"): 0.75e12,
                   (784, "f32"): 0.5 * GPU_PEAK["f32"] / (3 * 784 + 2),
                   (784, "f64"): 0.5 * GPU_PEAK["f64"] / (3 * 784 + 2)}
# Sliced on the GPU: 0.3 ns per point and direction (a CUB radix sort of 32-bit key-index pairs
# at about 7e9 pairs/s plus the rank pass and gradient writes, about as much again); the
# projection GEMMs at 60% of the FP32/FP64 peak: 2 flops per point, direction and coordinate.
GPU_SORT_S = {"f32": 0.3e-9, "f64": 0.45e-9}
GPU_GEMM_S = {t: 2 / (0.6 * GPU_PEAK[t]) for t in GPU_PEAK}

CORES_PER_NODE = 32           # a CPU node: 32 cores of this CPU, perfect scaling within a node
NODE_MEM_BPS = 200e9          # a CPU node's memory bandwidth (the self pass's buffer sums)
DIRECTIONS = 256              # [functional] directions, the default
PLATFORMS = {"25": ("cluster64_25GBps.xml", 25e9, 1.5e-6),
             "50": ("cluster64_50GBps.xml", 50e9, 1.5e-6),
             "200": ("cluster64_200GBps.xml", 200e9, 1e-6)}
MAX_SIM_BYTES = 1 << 20       # the largest simulated buffer; bigger messages are scaled down
BYTES = {"f32": 4, "f64": 8}
INT_MAX = 2**31 - 1


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def build_proxy(work):
    """smpicxx on the proxy and the engine's communicator sources, unchanged."""
    inc = os.path.join(work, "include")
    os.makedirs(inc, exist_ok=True)
    link = os.path.join(inc, "nwgf")
    if not os.path.islink(link):
        os.symlink(ROOT, link)
    exe = os.path.join(work, "proxy")
    cmd = ["smpicxx", "-std=c++20", "-O2", "-Wall", "-Wextra", "-Werror", "-DNWGF_HAVE_MPI",
           "-I" + inc, os.path.join(HERE, "proxy.cpp"),
           os.path.join(ROOT, "engine/comm/comm.cpp"),
           os.path.join(ROOT, "engine/comm/mpi_comm.cpp"), "-o", exe]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return exe


def bench(nwgf, args):
    env = dict(os.environ, OMP_WAIT_POLICY="passive")
    out = subprocess.run([nwgf, "--threads", "1", "bench"] + args, check=True, env=env,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def calibrate(nwgf):
    """Per-core compute times on this CPU, one thread, process CPU time (load-insensitive)."""
    cal = {"cpu": {}, "gpu": {}, "source": {}}
    for d, n in ((2, 20000), (784, 1500)):
        for t in ("f32", "f64"):
            j = bench(nwgf, ["pairwise", "--n", str(n), "--d", str(d), "--dtype", t,
                             "--repeats", "3"])
            cal["cpu"][f"pair_s_d{d}_{t}"] = 1e-9 / j["cpu_gpairs_per_s"]
            cal["source"][f"pair_s_d{d}_{t}"] = j
    for d, n, s in ((2, 1000000, 8), (784, 20000, 16)):
        for t in ("f32", "f64"):
            j = bench(nwgf, ["sliced", "--n", str(n), "--d", str(d), "--directions", str(s),
                             "--dtype", t, "--repeats", "3"])
            cal["cpu"][f"sliced_s_d{d}_{t}"] = 1e-9 * j["cpu_ns_per_point_direction"]
            cal["source"][f"sliced_s_d{d}_{t}"] = j
    for t in ("f32", "f64"):
        # d = 2: the sort and rank pass; the d = 784 excess over it: the projections (X, Y) and
        # the back-projection, 3 GEMM terms of 2 N S d in all against 2 N S point-directions.
        cal["cpu"][f"sort_s_{t}"] = cal["cpu"][f"sliced_s_d2_{t}"]
        excess = cal["cpu"][f"sliced_s_d784_{t}"] - cal["cpu"][f"sliced_s_d2_{t}"]
        cal["cpu"][f"gemm_s_{t}"] = max(excess, 0) * 2 / (3 * 784)
        for d in (2, 784):
            cal["gpu"][f"pair_s_d{d}_{t}"] = 1 / GPU_PAIRS_PER_S[(d, t)]
        cal["gpu"][f"sort_s_{t}"] = GPU_SORT_S[t]
        cal["gpu"][f"gemm_s_{t}"] = GPU_GEMM_S[t]
    model = subprocess.run(["sh", "-c", "lscpu | grep 'Model name'"], capture_output=True,
                           text=True).stdout
    cal["cpu_model"] = model.split(":", 1)[-1].strip()
    cal["load_average"] = os.getloadavg()
    return cal


def platform_file(work, plat, scale):
    """The platform with links `scale` times slower (messages are `scale` times smaller)."""
    name, bw, lat = PLATFORMS[plat]
    src = os.path.join(HERE, "platforms", name)
    if scale == 1:
        return src
    path = os.path.join(work, f"{plat}_{scale}.xml")
    if not os.path.exists(path):
        text = open(src).read().replace(f'bw="{plat}GBps"', f'bw="{bw / scale:.6g}Bps"')
        assert f'{bw / scale:.6g}Bps' in text
        open(path, "w").write(text)
    return path


def simulate(exe, work, platform, ranks, args, timeout=300):
    hosts = os.path.join(work, f"hosts{ranks}")
    if not os.path.exists(hosts):
        open(hosts, "w").write("".join(f"node-{i}\n" for i in range(ranks)))
    cmd = ["nice", "-n", "10", "smpirun", "-np", str(ranks), "-platform", platform,
           "-hostfile", hosts, "--cfg=smpi/simulate-computation:no",
           "--cfg=smpi/bw-factor:0:1", "--cfg=smpi/lat-factor:0:1",
           "--cfg=smpi/coll-selector:ompi", "--log=root.thres:critical", exe] + args
    # No simulation may take this machine's memory (SMPI runs all ranks in one process).
    res = subprocess.run(["sh", "-c", 'ulimit -v 8000000; exec "$@"', "sh"] + cmd,
                         capture_output=True, text=True, timeout=timeout)
    line = [l for l in res.stdout.splitlines() if l.count(",") == 7]
    if res.returncode != 0 or not line:
        raise RuntimeError(f"smpirun failed ({res.returncode}): {' '.join(cmd)}\n"
                           f"{res.stderr[-2000:]}")
    f = line[-1].split(",")
    return {"step_s": float(f[5]), "compute_s": float(f[6]), "comm_s": float(f[7])}


def case_args(cal, backend, schedule, n, d, dtype, ranks):
    c = cal[backend]
    units = CORES_PER_NODE if backend == "cpu" else 1
    pair = c[f"pair_s_d{d}_{dtype}"]
    b = BYTES[dtype]
    if schedule == "ring" and backend == "cpu" and d <= 3:
        pair *= 2  # ordered pairs: bench pairwise times the self pass, which halves the work
    args = ["--schedule", schedule, "--n", str(n), "--d", str(d), "--bytes", str(b),
            "--pair-s", f"{pair:.6g}", "--units", str(units), "--mem-bps", f"{NODE_MEM_BPS:.6g}",
            "--directions", str(DIRECTIONS), "--sort-s", f"{c[f'sort_s_{dtype}']:.6g}",
            "--gemm-s", f"{c[f'gemm_s_{dtype}']:.6g}"]
    if schedule == "self":
        # Every rank's cores busy: the self pass gives rank q threads' buffers [T q/P, T (q+1)/P).
        args += ["--threads", str(min(1024, units * ranks))]
    biggest = n * d * (8 if schedule == "self" else b)
    if schedule == "sliced":
        biggest = max(biggest, 2 * n * DIRECTIONS * b // ranks + 1)
    scale = max(1, math.ceil(biggest / MAX_SIM_BYTES))
    return args + ["--byte-scale", str(scale)], scale


def int_counts_ok(schedule, n, d, b, ranks):
    """Whether the engine's Comm (engine/comm/mpi_comm.cpp: byte counts and displacements are
    MPI ints) sends this step's messages whole rather than in pieces of at most INT_MAX bytes."""
    if ranks == 1:
        return True
    if schedule == "self":
        return n * d * 8 <= INT_MAX
    biggest = n * d * b  # the rows' allgather: displacements up to about this
    if schedule == "sliced":
        biggest = max(biggest, 2 * n * DIRECTIONS * b // ranks)  # alltoallv displacements
    if schedule == "ring":
        biggest = n * d * b // ranks
    return biggest <= INT_MAX


def schedules(backend, d):
    # The engine's exact schedule on the CPU: the self pass for d <= 3, the row pass beyond; the
    # GPU has no unordered-pair pass, so it takes the row pass (a model: CUDA across ranks is a
    # later step of issue 17).
    exact = "self" if backend == "cpu" and d <= 3 else "rows"
    return [("exact", exact), ("ring", "ring"), ("sliced", "sliced")]


def run_grid(exe, work, cal, ns, ds, ps, plats, backends, dtype):
    rows = []
    total = len(backends) * len(ds) * 3 * len(ns) * len(ps) * len(plats)
    k = 0
    t_start = time.time()
    for backend in backends:
        for d in ds:
            for method, sched in schedules(backend, d):
                for n in ns:
                    base = None
                    for plat in plats:
                        for p in ps:
                            k += 1
                            if p == 1 and base is not None:
                                r = dict(base, platform=plat)  # one rank: no network
                                rows.append(r)
                                continue
                            args, scale = case_args(cal, backend, sched, n, d, dtype, p)
                            t = simulate(exe, work, platform_file(work, plat, scale), p, args)
                            r = {"backend": backend, "d": d, "dtype": dtype, "method": method,
                                 "schedule": sched, "n": n, "ranks": p, "platform": plat,
                                 "byte_scale": scale,
                                 "int_counts_ok": int_counts_ok(sched, n, d, BYTES[dtype], p),
                                 **t}
                            if p == 1:
                                base = r
                            rows.append(r)
                        log(f"[{k}/{total}] {backend} d={d} {method} N={n:g} {plat} GB/s "
                            f"({time.time() - t_start:.0f} s)")
    # Efficiency against the engine's one-process step (the exact schedule at P = 1) for exact and
    # ring, and against the one-process sliced step for sliced.
    one = {}
    for r in rows:
        if r["ranks"] == 1:
            one[(r["backend"], r["d"], r["method"], r["n"])] = r["step_s"]
    for r in rows:
        ref_method = "sliced" if r["method"] == "sliced" else "exact"
        t1 = one[(r["backend"], r["d"], ref_method, r["n"])]
        r["efficiency"] = t1 / (r["ranks"] * r["step_s"])
        r["comm_fraction"] = r["comm_s"] / r["step_s"]
    return rows


def write_csv(rows, path):
    keys = ["backend", "d", "dtype", "method", "schedule", "n", "ranks", "platform", "byte_scale",
            "int_counts_ok", "step_s", "compute_s", "comm_s", "comm_fraction", "efficiency"]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)


def fmt_s(x):
    if x >= 100:
        return f"{x:.0f}"
    return f"{x:.3g}"


def fmt_n(n):
    return f"1e{round(math.log10(n))}"


def headline(rows, plat, backend, d, method, n, ps):
    """Largest P at efficiency >= 0.8, and the first P where communication (what the slowest rank
    does not spend computing) is 10% of the step or more."""
    sel = {r["ranks"]: r for r in rows if r["platform"] == plat and r["backend"] == backend
           and r["d"] == d and r["method"] == method and r["n"] == n}
    if not sel:
        return ""
    good = [p for p in ps if p in sel and sel[p]["efficiency"] >= 0.8]
    comm = [p for p in ps if p in sel and sel[p]["comm_fraction"] >= 0.1]
    return (f"{max(good) if good else '-'} / " + (f"{min(comm)}" if comm else "> 64"))


def write_markdown(rows, cal, path, ps, ns, plats):
    cpu = cal.get("cpu", {})
    out = ["# Simulated scaling (SimGrid SMPI)", "",
           "Made by `tools/scaling/run_study.py` (README, \"Simulated scaling study\", states",
           "every assumption). One step of the particle gradient of the self interaction term",
           "(N points in R^d, f32), simulated on SimGrid clusters of up to 64 nodes; time per",
           "step in simulated seconds and parallel efficiency T(1) / (P T(P)) against the engine's",
           "one-process exact step (exact, ring) or the one-process sliced step (sliced, S = "
           f"{DIRECTIONS}",
           f"directions). CPU nodes: {CORES_PER_NODE} cores of this CPU "
           f"({cal.get('cpu_model', '')},",
           f"calibrated: {1e-9 / cpu.get('pair_s_d2_f32', 1):.3g} Gpairs/s per core at d = 2, "
           f"{1e-6 / cpu.get('pair_s_d784_f32', 1):.3g} Mpairs/s at d = 784);",
           "GPU nodes: one H100 each, on paper. exact = the engine's schedule",
           "(kernels/pairwise_ranks.cpp; on GPU nodes the row pass, which CUDA does not run across",
           "ranks yet); ring and sliced are models of the issue's designs. comm = the slowest",
           "rank's step minus its compute (no schedule here overlaps the allgather with compute).",
           "A cell marked * sends messages over 2^31 - 1 bytes, which the engine's Comm sends in pieces",
           "(MPI int counts; an allgather then becomes P broadcasts): simulated as one allgather.", "",
           "## Where communication stops hiding behind compute", "",
           "Each cell: the largest P with efficiency >= 0.8 / the first P where communication is",
           ">= 10% of the step.", ""]
    for plat in plats:
        out.append(f"**{plat} GB/s links**")
        out.append("")
        out.append("| nodes | d | method | " + " | ".join(f"N = {fmt_n(n)}" for n in ns) + " |")
        out.append("|---|---|---|" + "---|" * len(ns))
        for backend in ("cpu", "gpu"):
            for d in (2, 784):
                for method in ("exact", "ring", "sliced"):
                    cells = [headline(rows, plat, backend, d, method, n, ps) for n in ns]
                    if any(cells):
                        out.append(f"| {backend.upper()} | {d} | {method} | " + " | ".join(cells)
                                   + " |")
        out.append("")
    for plat in plats:
        for backend in ("cpu", "gpu"):
            for d in (2, 784):
                sel = [r for r in rows if r["platform"] == plat and r["backend"] == backend
                       and r["d"] == d]
                if not sel:
                    continue
                out.append(f"## {backend.upper()} nodes, d = {d}, {plat} GB/s links: "
                           "seconds per step, efficiency (comm share where >= 10%)")
                out.append("")
                out.append("| method | N | " + " | ".join(f"P = {p}" for p in ps) + " |")
                out.append("|---|---|" + "---|" * len(ps))
                for method in ("exact", "ring", "sliced"):
                    for n in ns:
                        cells = []
                        for p in ps:
                            m = [r for r in sel if r["method"] == method and r["n"] == n
                                 and r["ranks"] == p]
                            if not m:
                                cells.append("")
                                continue
                            r = m[0]
                            cells.append(f"{fmt_s(r['step_s'])}, {r['efficiency']:.2f}"
                                         + (f" ({100 * r['comm_fraction']:.0f}%)"
                                            if r["comm_fraction"] >= 0.1 else "")
                                         + ("" if r["int_counts_ok"] else " *"))
                        label = method + (" (model)" if method != "exact" else "")
                        out.append(f"| {label} | {fmt_n(n)} | " + " | ".join(cells) + " |")
                out.append("")
    open(path, "w").write("\n".join(out) + "\n")


def write_plots(rows, nwgf, outdir, plat, work):
    """One metrics.csv per curve (x = log2 P), drawn by `nwgf plot`."""
    made = []
    for backend in ("cpu", "gpu"):
        for d in (2, 784):
            dirs = []
            for method in ("exact", "sliced"):
                for n in sorted({r["n"] for r in rows}):
                    sel = sorted((r for r in rows if r["platform"] == plat
                                  and r["backend"] == backend and r["d"] == d
                                  and r["method"] == method and r["n"] == n),
                                 key=lambda r: r["ranks"])
                    if not sel:
                        continue
                    name = f"{method}_N{fmt_n(n)}"
                    run = os.path.join(work, "curves", f"{backend}_{d}", name)
                    os.makedirs(run, exist_ok=True)
                    with open(os.path.join(run, "metrics.csv"), "w") as f:
                        f.write("step,log2_ranks,time_per_step_s,parallel_efficiency\n")
                        for i, r in enumerate(sel):
                            f.write(f"{i},{math.log2(r['ranks']):g},{r['step_s']:.9g},"
                                    f"{r['efficiency']:.9g}\n")
                    dirs.append(run)
            if not dirs:
                continue
            what = f"{backend.upper()} nodes, d = {d}, f32, {plat} GB/s"
            for column, log_y, stem, title in (
                    ("time_per_step_s", True, "time", "seconds per step vs log2 P"),
                    ("parallel_efficiency", False, "efficiency", "parallel efficiency vs log2 P")):
                png = os.path.join(outdir, f"{stem}_{backend}_d{d}.png")
                cmd = [nwgf, "plot"] + dirs + ["--x", "log2_ranks", "--column", column,
                                               "--out", png, "--title",
                                               f"Simulated {title}: {what}"]
                if log_y:
                    cmd.append("--log")
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
                made.append(png)
    return made


def smoke(work):
    """The ctest: the proxy on a 4-node platform, one tiny exact case per engine schedule."""
    exe = build_proxy(work)
    plat = os.path.join(HERE, "platforms", "cluster4_25GBps.xml")
    for sched, d in (("rows", 16), ("self", 2)):
        base = ["--schedule", sched, "--n", "4096", "--d", str(d), "--bytes", "4",
                "--pair-s", "1e-9", "--units", "2", "--threads", "8"]
        t1 = simulate(exe, work, plat, 1, base)["step_s"]
        t4 = simulate(exe, work, plat, 4, base)
        eff = t1 / (4 * t4["step_s"])
        # The same step with messages 4x smaller on 4x slower links: the time must not move.
        scaled = os.path.join(work, "cluster4_scaled.xml")
        open(scaled, "w").write(open(plat).read().replace('bw="25GBps"', 'bw="6.25GBps"'))
        t4s = simulate(exe, work, scaled, 4, base + ["--byte-scale", "4"])
        eff = t1 / (4 * t4["step_s"])
        drift = abs(t4s["step_s"] / t4["step_s"] - 1)
        print(f"{sched}: T(1) = {t1:.6g} s, T(4) = {t4['step_s']:.6g} s "
              f"(comm {t4['comm_s']:.3g} s), efficiency {eff:.3f}; "
              f"byte scale 4: T(4) = {t4s['step_s']:.6g} s")
        if not (t1 > 0 and t4["step_s"] > 0 and t4["comm_s"] > 0 and 0 < eff <= 1):
            print(f"error: {sched}: simulated times or efficiency out of range", file=sys.stderr)
            return 1
        if drift > 0.01:
            print(f"error: {sched}: the byte-scaled step differs by {100 * drift:.2g}%",
                  file=sys.stderr)
            return 1
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nwgf", default=os.path.join(ROOT, "build", "nwgf"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "scaling"))
    ap.add_argument("--calibration", help="a calibration.json to reuse instead of measuring")
    ap.add_argument("--quick", action="store_true", help="25 GB/s only, N = 1e5 and 1e7")
    ap.add_argument("--smoke", metavar="DIR", help="the ctest (4-node platform, tiny case)")
    a = ap.parse_args()
    if a.smoke:
        os.makedirs(a.smoke, exist_ok=True)
        return smoke(a.smoke)
    for tool in ("smpicxx", "smpirun"):
        if not shutil.which(tool):
            print(f"error: {tool} not found (Debian: apt-get install libsimgrid-dev)",
                  file=sys.stderr)
            return 2
    if not os.access(a.nwgf, os.X_OK):
        print(f"error: --nwgf: {a.nwgf} is not an executable (build the nwgf_cli target; it "
              "calibrates and draws the plots)", file=sys.stderr)
        return 2
    os.makedirs(a.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="nwgf_scaling_")
    exe = build_proxy(work)
    if a.calibration:
        cal = json.load(open(a.calibration))
    else:
        log("calibrating on this CPU (nwgf bench pairwise|sliced, one thread)")
        cal = calibrate(a.nwgf)
    json.dump(cal, open(os.path.join(a.out, "calibration.json"), "w"), indent=1)
    ns = [100000, 10000000] if a.quick else [100000, 1000000, 10000000, 100000000]
    plats = ["25"] if a.quick else ["25", "50", "200"]
    ps = [1, 2, 4, 8, 16, 32, 64]
    rows = run_grid(exe, work, cal, ns, [2, 784], ps, plats, ["cpu", "gpu"], "f32")
    write_csv(rows, os.path.join(a.out, "scaling.csv"))
    write_markdown(rows, cal, os.path.join(a.out, "scaling.md"), ps, ns, plats)
    made = write_plots(rows, a.nwgf, a.out, "25", work)
    log("wrote " + ", ".join([os.path.join(a.out, f) for f in
                              ("calibration.json", "scaling.csv", "scaling.md")] + made))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
