#!/usr/bin/env python3
"""Benchmark patctl against the real patronictl on the sandbox cluster (not a test: it prints figures).

For each command both tools run alternately (after one warm-up each); we report wall-time median,
min and max, peak RSS, and the ratio patronictl/patctl of the medians. Then a scale run: synthetic
clusters of 10, 100 and 1,000 members written under scratch scopes of the sandbox etcd, and 100
scopes in one namespace, timed with patctl only (patronictl is shown for the 1,000-member case).

Then the live views (`--live`, or `--only-live` for nothing else): how long after etcd applied a
change `events -o json` emits it and `top` redraws it, and idle CPU and RSS of both watching a
3-member cluster; `top --all` over 100 clusters: how long a key takes to redraw the screen. `top`
runs on a pseudo-terminal of this process.

Usage: eval "$(bash sandbox/cluster.sh env)"; python3 bench/bench.py [--runs N] [--patctl PATH] [--live|--only-live]
Only loopback addresses are used; the scratch scopes are deleted at the end.
"""
import argparse
import base64
import fcntl
import json
import os
import pty
import select
import struct
import termios
import urllib.request
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


def etcd_put(key, value):
    """One put through etcd's JSON gateway (no process start): returns when etcd has applied it."""
    b64 = lambda t: base64.b64encode(t.encode()).decode()
    req = urllib.request.Request(os.environ["SANDBOX_ETCD_URL"] + "/v3/kv/put",
                                 data=json.dumps({"key": b64(key), "value": b64(value)}).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=5).read()


def cpu_and_rss(pid, seconds):
    """CPU share of one core over `seconds`, and RSS MiB at the end, from /proc."""
    def ticks():
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12])
    t0, c0 = time.perf_counter(), ticks()
    time.sleep(seconds)
    t1, c1 = time.perf_counter(), ticks()
    rss = next(int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS"))
    return (c1 - c0) / os.sysconf("SC_CLK_TCK") / (t1 - t0) * 100, rss / 1024


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


class Pty:
    """A program on a pseudo-terminal of this process (COLS x ROWS), its output read as it comes."""

    def __init__(self, argv, cols=160, rows=50):
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                                     env=dict(os.environ, TERM="xterm"))
        os.close(slave)

    def read_until(self, needle, timeout=5.0):
        """Read until `needle` (bytes) shows; seconds taken, or None."""
        start, buf = time.perf_counter(), b""
        while time.perf_counter() - start < timeout:
            r, _, _ = select.select([self.master], [], [], 0.05)
            if r:
                try:
                    buf += os.read(self.master, 65536)
                except OSError:
                    return None
                if needle in buf:
                    return time.perf_counter() - start
        return None

    def drain(self):
        while select.select([self.master], [], [], 0.2)[0]:
            try:
                os.read(self.master, 65536)
            except OSError:
                return

    def close(self):
        os.write(self.master, b"q")
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self.master)


def live(patctl, scopes):
    """The live views: change-to-output latency, idle cost, key latency over 100 clusters."""
    scope = "patctl-bench-live"
    scopes.append(scope)
    write_cluster(scope, 3)
    key = f"/service/{scope}/leader"
    print("\nlive views (patctl only; a DCS change = one etcd put, timed from the put's request):\n")
    ev = subprocess.Popen([*patctl, "events", "-o", "json", scope], stdout=subprocess.PIPE, bufsize=0)
    time.sleep(1.0)
    lat = []
    for i in range(30):
        t0 = time.perf_counter()
        etcd_put(key, f"m{(i % 2) + 1:04d}")
        line = ev.stdout.readline()
        lat.append(time.perf_counter() - t0)
        assert b"leader-change" in line, line
    cpu, rss = cpu_and_rss(ev.pid, 10)
    ev.kill()
    print(f"- `events -o json`: a leader change emitted {fmt_ms(statistics.median(lat))} ms after the put "
          f"(median of 30; p90 {fmt_ms(pct(lat, 0.9))}, max {fmt_ms(max(lat))}); idle 10 s: {cpu:.2f}% of a core, "
          f"{rss:.1f} MiB RSS")
    top = Pty([*patctl, "top", scope])
    top.read_until(b"leader", 5)
    top.drain()
    lat = []
    for i in range(20):
        name = f"m{i:04d}x"
        t0 = time.perf_counter()
        etcd_put(key, name)
        took = top.read_until(name.encode(), 3)
        lat.append((time.perf_counter() - t0) if took is not None else float("inf"))
        top.drain()
    cpu, rss = cpu_and_rss(top.proc.pid, 10)
    top.close()
    print(f"- `top`: a leader change on screen {fmt_ms(statistics.median(lat))} ms after the put "
          f"(median of 20; max {fmt_ms(max(lat))}); idle 10 s: {cpu:.2f}% of a core, {rss:.1f} MiB RSS")
    many = [s for s in scopes if s.startswith("patctl-bench-many-")]
    if not many:
        many = [f"patctl-bench-many-{i:03d}" for i in range(100)]
        for s in many:
            scopes.append(s)
            write_cluster(s, 3)
    top = Pty([*patctl, "top", "--all"], cols=160, rows=50)
    top.read_until(b"clusters,", 10)
    top.drain()
    lat = []
    for i in range(40):
        t0 = time.perf_counter()
        os.write(top.master, b"\x1b[B" if i % 2 == 0 else b"\x1b[A")
        took = top.read_until(b"\x1b", 2)
        lat.append(time.perf_counter() - t0 if took is not None else float("inf"))
        top.drain()
    _, rss = cpu_and_rss(top.proc.pid, 1)
    top.close()
    print(f"- `top --all` over {len(many) + 1}+ clusters: a key redrawn in {fmt_ms(statistics.median(lat))} ms "
          f"(median of 40; max {fmt_ms(max(lat))}), {rss:.1f} MiB RSS")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--patctl", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "patctl"))
    ap.add_argument("--patronictl", default="/opt/patroni-venv/bin/patronictl")
    ap.add_argument("--live", action="store_true", help="also measure events and top")
    ap.add_argument("--only-live", action="store_true", help="measure events and top only")
    args = ap.parse_args()
    cfg = os.environ.get("PATCTL_TEST_CONFIG")
    if not cfg:
        sys.exit('start the sandbox and eval "$(bash sandbox/cluster.sh env)" first')
    patctl = [os.path.abspath(args.patctl), "-c", cfg]
    patronictl = [args.patronictl, "-c", cfg]

    if args.only_live:
        scopes = []
        try:
            live(patctl, scopes)
        finally:
            for s in scopes:
                etcdctl("del", "--prefix", f"/service/{s}/")
        return
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
        if args.live:
            live(patctl, scopes)
    finally:
        for s in scopes:
            etcdctl("del", "--prefix", f"/service/{s}/")


if __name__ == "__main__":
    main()
