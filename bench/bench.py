#!/usr/bin/env python3
"""Benchmark patctl against the real patronictl on the sandbox cluster (not a test: it prints figures).

For each command both tools run alternately (after one warm-up each); we report wall-time median,
min and max, peak RSS, and the ratio patronictl/patctl of the medians. Then a scale run: synthetic
clusters of 10, 100 and 1,000 members written under scratch scopes of the sandbox etcd, and 100
scopes in one namespace, timed with patctl only (patronictl is shown for the 1,000-member case).

Usage: eval "$(bash sandbox/cluster.sh env)"; python3 bench/bench.py [--runs N] [--patctl PATH]
Only loopback addresses are used; the scratch scopes are deleted at the end.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

COMMANDS = [["list"], ["topology"], ["history"], ["show-config"], ["list", "-f", "json"]]


def run_once(argv):
    """Run argv, return (wall seconds, peak RSS KiB, exit code)."""
    # GNU time measures the peak RSS: a child forked from this Python process would count Python's pages.
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    rss = int(proc.stderr.strip().splitlines()[-1])
    return wall, rss, proc.returncode


def measure(tools, args, runs):
    """Alternate the tools `runs` times after one warm-up; return {tool: (walls, rss)}."""
    results = {name: ([], []) for name, _ in tools}
    for name, base in tools:
        run_once(base + args)
    for _ in range(runs):
        for name, base in tools:
            wall, rss, code = run_once(base + args)
            if code != 0:
                print(f"warning: {name} {' '.join(args)} exited {code}", file=sys.stderr)
            results[name][0].append(wall)
            results[name][1].append(rss)
    return results


def fmt_ms(s):
    return f"{s * 1000:.1f}"


def etcdctl(*args, stdin=None):
    env = dict(os.environ, ETCDCTL_API="3")
    return subprocess.run(["etcdctl", "--endpoints", os.environ["SANDBOX_ETCD_URL"], *args],
                          input=stdin, env=env, check=True, capture_output=True, text=True)


def write_cluster(scope, members):
    base = f"/service/{scope}"
    puts = [("initialize", "7334869384651563031"), ("leader", "m0000"),
            ("config", '{"ttl":30,"loop_wait":10,"retry_timeout":10}'), ("status", '{"optime":67109208}')]
    for i in range(members):
        data = {"conn_url": f"postgres://127.0.{i // 250}.{i % 250 + 1}:5432/postgres",
                "api_url": f"http://127.0.{i // 250}.{i % 250 + 1}:8008/patroni", "state": "running",
                "role": "primary" if i == 0 else "replica", "version": "4.1.5", "xlog_location": 67109208,
                "timeline": 1}
        if i:
            data.update(receive_lsn=67109208 - i * 1024, replay_lsn=67109208 - i * 2048,
                        replication_state="streaming")
        puts.append((f"members/m{i:04d}", json.dumps(data, separators=(",", ":"))))
    # etcdctl txn reads "compares\n\nsuccess ops\n\nfailure ops\n"; batch to stay under etcd's op limit.
    for chunk in range(0, len(puts), 100):
        ops = "".join(f"put {base}/{k} {json.dumps(v)}\n" for k, v in puts[chunk:chunk + 100])
        etcdctl("txn", stdin="\n" + ops + "\n\n")


def check_cluster(patctl, list_median, args):
    """`check` of one cluster: patctl against check_patroni 2.2 (same -e endpoints), and patctl without
    -e (endpoints from the DCS); targets: within 2x of `list`, at least 50x faster than check_patroni."""
    n, base = int(os.environ.get("SANDBOX_NODES", "3")), int(os.environ["SANDBOX_API_BASE"])
    endpoints = ",".join(f"http://127.0.0.1:{base + i}" for i in range(1, n + 1))
    check = ["check", "-e", endpoints, "cluster_has_replica"]
    r = {}
    r.update(measure([("patctl", [patctl[0], "check"])], check[1:], args.runs))
    r.update(measure([("check_patroni", [args.check_patroni])], check[1:], args.runs))
    r.update(measure([("patctl (no -e)", patctl + ["check"])], ["cluster_has_replica"], args.runs))
    pw, cw, dw = (statistics.median(r[k][0]) for k in ("patctl", "check_patroni", "patctl (no -e)"))
    print(f"\n`check cluster_has_replica`: patctl -e {fmt_ms(pw)} ms ({max(r['patctl'][1]) / 1024:.1f} MiB), "
          f"patctl from the DCS {fmt_ms(dw)} ms, check_patroni {fmt_ms(cw)} ms "
          f"({max(r['check_patroni'][1]) / 1024:.1f} MiB): {cw / pw:.0f}x faster than check_patroni; "
          f"{pw / list_median:.2f}x / {dw / list_median:.2f}x `list`'s {fmt_ms(list_median)} ms")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--patctl", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "patctl"))
    ap.add_argument("--patronictl", default="/opt/patroni-venv/bin/patronictl")
    ap.add_argument("--check-patroni", dest="check_patroni", default="/opt/check-patroni-venv/bin/check_patroni")
    args = ap.parse_args()
    cfg = os.environ.get("PATCTL_TEST_CONFIG")
    if not cfg:
        sys.exit('start the sandbox and eval "$(bash sandbox/cluster.sh env)" first')
    patctl = [os.path.abspath(args.patctl), "-c", cfg]
    patronictl = [args.patronictl, "-c", cfg]

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"machine: {cpu}, {os.cpu_count()} cores; {args.runs} alternating runs after 1 warm-up\n")
    print("| command | patctl median ms (min–max) | patctl peak RSS MiB | patronictl median ms (min–max) "
          "| patronictl peak RSS MiB | ratio |")
    print("| --- | --- | --- | --- | --- | --- |")
    for cmd in COMMANDS:
        r = measure([("patctl", patctl), ("patronictl", patronictl)], cmd, args.runs)
        (pw, pr), (tw, tr) = r["patctl"], r["patronictl"]
        ratio = statistics.median(tw) / statistics.median(pw)
        print(f"| `{' '.join(cmd)}` | {fmt_ms(statistics.median(pw))} ({fmt_ms(min(pw))}–{fmt_ms(max(pw))}) "
              f"| {max(pr) / 1024:.1f} | {fmt_ms(statistics.median(tw))} ({fmt_ms(min(tw))}–{fmt_ms(max(tw))}) "
              f"| {max(tr) / 1024:.1f} | {ratio:.0f}× |")
    list_median = statistics.median(measure([("patctl", patctl)], ["list"], args.runs)["patctl"][0])
    check_cluster(patctl, list_median, args)
    r = measure([("patctl", [patctl[0]])], ["--help"], args.runs)
    print(f"\n`patctl --help`: median {fmt_ms(statistics.median(r['patctl'][0]))} ms")

    print("\nscale (patctl only, synthetic members in scratch scopes):\n")
    print("| members | `list` ms | `topology` ms | `list -f json` ms | peak RSS MiB |")
    print("| --- | --- | --- | --- | --- |")
    scopes = []
    try:
        for n in (10, 100, 1000):
            scope = f"patctl-bench-{n}"
            scopes.append(scope)
            write_cluster(scope, n)
            row = []
            rss = 0
            for cmd in (["list", scope], ["topology", scope], ["list", "-f", "json", scope]):
                r = measure([("patctl", patctl)], cmd, max(5, args.runs // 2))
                row.append(fmt_ms(statistics.median(r["patctl"][0])))
                rss = max(rss, max(r["patctl"][1]))
            print(f"| {n} | {' | '.join(row)} | {rss / 1024:.1f} |")
        r = measure([("patronictl", patronictl)], ["list", "patctl-bench-1000"], 3)
        print(f"\npatronictl `list` of the 1,000-member cluster: median {fmt_ms(statistics.median(r['patronictl'][0]))} ms")
        many = [f"patctl-bench-many-{i:03d}" for i in range(100)]
        for s in many:
            scopes.append(s)
            write_cluster(s, 3)
        r = measure([("patctl", patctl)], ["list", *many], 5)
        print(f"patctl `list` of 100 clusters (3 members each) in one namespace: "
              f"median {fmt_ms(statistics.median(r['patctl'][0]))} ms")
    finally:
        for s in scopes:
            etcdctl("del", "--prefix", f"/service/{s}/")


if __name__ == "__main__":
    main()
