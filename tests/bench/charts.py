#!/usr/bin/python3
"""Charts of one `make bench` run, drawn from the JSON it wrote beside its table:

    /usr/bin/python3 tests/bench/charts.py build/bench-results.json [OUTDIR]

writes, into OUTDIR (default: the JSON's folder), and prints the path of each:
  bench-rps.svg       requests/s of every wrk row: squirrel-server (each wolfSSL build, and with
                      --no-sandbox where measured), the floor (rows a, b) and nginx side by side;
                      bars are medians, whiskers the lowest and highest run
  bench-latency.svg   the latency distribution (CDF) of every wrk row and of the client rows: for
                      each target, the median over its runs of each percentile, so the table's
                      p50 and p99 lie on the curve

Both carry the run's date and command, so a chart and a table can be matched. tests/bench/bench.py
runs this at the end of every run; it needs Debian's python3-matplotlib (sh .ci/deps bench).
The SVGs are reproducible: the same JSON gives the same bytes.
"""
import json
import os
import statistics
import sys

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator  # noqa: E402

WRK_ROWS = ["a", "b", "c", "d", "ec", "e"]
ROW_TITLES = {"a": "a. plain, keep-alive", "b": "b. plain, connection per request",
              "c": "c. TLS keep-alive", "d": "d. TLS, full RSA-2048 handshake each",
              "ec": "ec. TLS, full ECDSA P-256 handshake each", "e": "e. TLS, resumed handshake each",
              "client.http": "client: one http fetch", "client.https": "client: one https fetch"}
ORDER = ["squirrel", "squirrel-nosb", "squirrel-alt", "floor", "nginx"]
COLORS = {"squirrel": "#1f77b4", "squirrel-nosb": "#9ecae1", "squirrel-alt": "#ff7f0e",
          "floor": "#7f7f7f", "nginx": "#2ca02c", "squirrel-client": "#1f77b4", "curl": "#2ca02c"}
Y_TICKS = [0.01, 0.1, 0.5, 0.9, 0.99, 0.999]
SHORT = {"squirrel": "squirrel", "squirrel-nosb": "--no-sandbox", "squirrel-alt": "squirrel\n(source)",
         "floor": "floor", "nginx": "nginx"}


def counted(runs):
    return [r for r in runs if "error" not in r]


def caption(meta):
    return (f"make bench, {meta.get('date', '?')}, {meta.get('mode', '?')} mode: "
            f"`{meta.get('command', '?')}`\n{meta.get('cpu', '?')}, {meta.get('cpus', '?')} CPUs, "
            f"load average {meta.get('load_start', '?')} at start; pinning: {meta.get('pinning', '?')}.\n"
            "From the same run as the table written with it (bench-results.md).")


def grid(n):
    cols = min(3, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows + 0.9), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def rps_chart(data, path):
    runs = data["runs"]
    keys = [k for k in WRK_ROWS if k in runs and any(counted(v) for v in runs[k].values())]
    if not keys:
        return False
    labels = data["meta"].get("targets", {})
    fig, axes = grid(len(keys))
    seen = {}
    for ax, key in zip(axes, keys):
        names = [n for n in ORDER if counted(runs[key].get(n, []))]
        for i, name in enumerate(names):
            rates = [r["rps"] for r in counted(runs[key][name])]
            mid = statistics.median(rates)
            bar = ax.bar(i, mid, color=COLORS[name], width=0.7,
                         yerr=[[mid - min(rates)], [max(rates) - mid]], capsize=3)
            ax.annotate(f"{mid:,.0f}", (i, mid), xytext=(0, 2), textcoords="offset points",
                        ha="center", va="bottom", fontsize=7)
            seen.setdefault(name, bar)
        ax.set_xticks(range(len(names)), [SHORT[n] for n in names], fontsize=7)
        ax.set_title(ROW_TITLES[key], fontsize=9)
        ax.set_ylabel("requests/s", fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_ylim(0, ax.get_ylim()[1] * 1.1)
    fig.legend([seen[n] for n in ORDER if n in seen], [labels.get(n, n) for n in ORDER if n in seen],
               loc="upper center", ncol=3, fontsize=7, frameon=False)
    fig.text(0.01, 0.005, caption(data["meta"]), fontsize=6, va="bottom")
    fig.tight_layout(rect=(0, 0.07, 1, 0.93))
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)
    return True


def median_curve(tables):
    """Percentile tables ([p, value] lists, one per run) -> [(p, median value over the runs)]."""
    by_p = {}
    for table in tables:
        for p, v in table:
            by_p.setdefault(p, []).append(v)
    return [(p, statistics.median(vs)) for p, vs in sorted(by_p.items()) if len(vs) == len(tables)]


def latency_curves(runs, key):
    """{name: [(percentile, ms)]} for one row: wrk rows from microseconds, client rows in ms."""
    curves = {}
    if key.startswith("client."):
        for name, r in runs[key].items():
            if r.get("latency_pct_ms"):
                curves[name] = [(p, v) for p, v in r["latency_pct_ms"]]
        return curves
    for name in ORDER:
        tables = [r["latency_pct_us"] for r in counted(runs[key].get(name, [])) if r.get("latency_pct_us")]
        if tables:
            curves[name] = [(p, us / 1000) for p, us in median_curve(tables)]
    return curves


def latency_chart(data, path):
    runs = data["runs"]
    keys = [k for k in WRK_ROWS + ["client.http", "client.https"] if k in runs and latency_curves(runs, k)]
    if not keys:
        return False
    labels = dict(data["meta"].get("targets", {}), **{"squirrel-client": "squirrel-client", "curl": "curl"})
    fig, axes = grid(len(keys))
    seen = {}
    for ax, key in zip(axes, keys):
        for name, curve in latency_curves(runs, key).items():
            # The logit axis spreads both tails; it has no 0% and no 100% (the min and the max).
            curve = [(p, max(v, 0.001)) for p, v in curve if 0 < p < 100]
            line, = ax.step([v for _, v in curve], [p / 100 for p, _ in curve], where="post",
                            color=COLORS.get(name), linestyle="--" if name == "squirrel-nosb" else "-",
                            linewidth=1.2)
            seen.setdefault(name, line)
        for p in (0.5, 0.99):
            ax.axhline(p, color="#bbbbbb", linewidth=0.6, zorder=0)
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_yscale("logit")
        ax.set_ylim(0.001, 0.9999)
        ax.set_yticks(Y_TICKS, [f"{t * 100:g}%" for t in Y_TICKS])
        ax.yaxis.set_minor_locator(NullLocator())
        ax.set_title(ROW_TITLES[key], fontsize=9)
        ax.set_xlabel("latency (ms, log scale)", fontsize=8)
        ax.set_ylabel("requests answered within", fontsize=8)
        ax.tick_params(labelsize=7)
    order = [n for n in ORDER + ["squirrel-client", "curl"] if n in seen]
    fig.legend([seen[n] for n in order], [labels.get(n, n) for n in order], loc="upper center",
               ncol=3, fontsize=7, frameon=False)
    fig.text(0.01, 0.005, caption(data["meta"]) + "\nGrey lines: p50 and p99. wrk rows: from writing "
             "the request to the end of its answer (median over the runs of each percentile);\nclient "
             "rows: the whole process, start to exit (hyperfine).", fontsize=6, va="bottom")
    fig.tight_layout(rect=(0, 0.1, 1, 0.93))
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)
    return True


def main(argv):
    if len(argv) not in (2, 3):
        print("usage: charts.py RESULTS.json [OUTDIR]", file=sys.stderr)
        return 2
    try:
        with open(argv[1]) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        print(f"charts.py: {argv[1]}: cannot read: {e}", file=sys.stderr)
        return 1
    out_dir = argv[2] if len(argv) == 3 else os.path.dirname(os.path.abspath(argv[1]))
    os.makedirs(out_dir, exist_ok=True)
    plt.rcParams.update({"svg.hashsalt": "squirrel-bench", "svg.fonttype": "none",
                         "font.family": "DejaVu Sans"})
    for name, draw in (("bench-rps.svg", rps_chart), ("bench-latency.svg", latency_chart)):
        path = os.path.join(out_dir, name)
        if draw(data, path):
            print(path)
        elif os.path.exists(path):
            os.unlink(path)  # a chart of an older run must not pass for this one's
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
