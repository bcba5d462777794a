#!/usr/bin/env python3
"""Benchmark patctl against the real patronictl on the sandbox cluster (not a test: it prints figures).

For each command both tools run alternately (after one warm-up each); we report wall-time median,
min and max, peak RSS, and the ratio patronictl/patctl of the medians. Then a scale run: synthetic
clusters of 10, 100 and 1,000 members written under scratch scopes of the sandbox etcd, and 100
scopes in one namespace, timed with patctl only (patronictl is shown for the 1,000-member case).
Then `doctor` (patctl only): on the healthy sandbox (target: at most 1 s) and with one replica's
Patroni frozen by SIGSTOP (target: at most the request timeout + 1 s; SIGCONT afterwards, always).
Last the fleet case: 1,000 clusters of 3 members in a namespace of their own (member keys on a lease,
as Patroni writes them), `patctl list --all` against patronictl listing the 1,000 names in one
invocation (issue 15: at most 100 ms, at least 50x faster).

Then `switchover --wait` latency: how long after the DCS shows a stage reached patctl notices it
(`--wait-runs`, real switchovers on the sandbox; `--only wait` runs just that part).

Then the live views (`--only live` for nothing else): how long after etcd applied a change
`events -o json` emits it and `top` redraws it, and idle CPU and RSS of both watching a 3-member
cluster; `top --all` over 100 clusters: how long a key takes to redraw the screen. `top` runs on a
pseudo-terminal of this process.

Usage: eval "$(bash sandbox/cluster.sh env)"; python3 bench/bench.py [--runs N] [--patctl PATH]
       [--only compare|scale|doctor|fleet|wait|live] [--wait-runs N]
Only loopback addresses are used; the scratch scopes and the fleet namespace are deleted at the end.
"""
import base64
import datetime
import threading
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import fcntl
import pty
import select
import socket
import struct
import termios
import urllib.parse
import urllib.error
import urllib.request

COMMANDS = [["list"], ["topology"], ["history"], ["show-config"], ["list", "-f", "json"]]


def run_once(argv):
    """Run argv directly (output discarded), return (wall seconds, exit code)."""
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, proc.returncode


def peak_rss(argv):
    """Peak RSS KiB of one run of argv, from GNU time: a child forked from this Python process would
    count Python's own pages. Measured apart from the timed runs, so that starting GNU time (about as
    long as a whole patctl run on this VM) is not in the wall times."""
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    return int(proc.stderr.strip().splitlines()[-1])


def measure(tools, args, runs):
    """One warm-up run of each tool (which gives its peak RSS), then the tools alternately `runs`
    times; return {tool: (walls, [peak RSS KiB])}."""
    results = {name: ([], [peak_rss(base + args)]) for name, base in tools}
    for _ in range(runs):
        for name, base in tools:
            wall, code = run_once(base + args)
            if code != 0:
                print(f"warning: {name} {' '.join(args)} exited {code}", file=sys.stderr)
            results[name][0].append(wall)
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


def bench_doctor(patctl, runs):
    """`doctor` on the healthy sandbox, then with a replica's Patroni frozen (SIGSTOP, SIGCONT after)."""
    timeout = 2
    print("\n`doctor` (patctl only):\n")
    print("| case | median ms (min–max) | target ms | exit |")
    print("| --- | --- | --- | --- |")
    walls, codes = [], set()
    run_once(patctl + ["doctor"])
    for _ in range(runs):
        wall, code = run_once(patctl + ["doctor"])
        walls.append(wall)
        codes.add(code)
    print(f"| healthy, 3 members | {fmt_ms(statistics.median(walls))} ({fmt_ms(min(walls))}–{fmt_ms(max(walls))}) "
          f"| 1000 | {', '.join(map(str, sorted(codes)))} |")
    listed = json.loads(subprocess.run(patctl + ["list", "-f", "json"], capture_output=True, text=True,
                                       check=True).stdout)
    replica = next(m["Member"] for m in listed if m["Role"] != "Leader")
    with open(os.path.join(os.environ["SANDBOX_DIR"], replica, "patroni.pid")) as f:
        pid = int(f.read().strip())
    walls, codes = [], set()
    os.kill(pid, signal.SIGSTOP)
    try:
        for _ in range(max(3, runs // 4)):
            wall, code = run_once(patctl + ["--request-timeout", str(timeout), "doctor"])
            walls.append(wall)
            codes.add(code)
    finally:
        os.kill(pid, signal.SIGCONT)
    print(f"| {replica} frozen, `--request-timeout {timeout}` | {fmt_ms(statistics.median(walls))} "
          f"({fmt_ms(min(walls))}–{fmt_ms(max(walls))}) | {(timeout + 1) * 1000} | "
          f"{', '.join(map(str, sorted(codes)))} |")


FLEET_NS = "patctl-bench-fleet"


def write_fleet(clusters):
    """`clusters` healthy 3-member clusters under /FLEET_NS/, leader and member keys on one lease."""
    lease = etcdctl("lease", "grant", "900").stdout.split()[1]
    ops = []
    for c in range(clusters):
        base = f"/{FLEET_NS}/c{c:04d}"
        optime = 50331968 + c * 4096
        ops += [(base + "/initialize", str(7334869384651563031 + c), None),
                (base + "/config", json.dumps({"ttl": 30, "loop_wait": 10, "retry_timeout": 10,
                                               "maximum_lag_on_failover": 1048576,
                                               "postgresql": {"use_pg_rewind": True, "use_slots": True,
                                                              "parameters": {"max_connections": 100}}},
                                              separators=(",", ":")), None),
                (base + "/status", json.dumps({"optime": optime, "slots": {"pg2": optime, "pg3": optime},
                                               "retain_slots": ["pg1", "pg2", "pg3"]}, separators=(",", ":")), None),
                (base + "/history", json.dumps([[1, 25165984, "no recovery target specified",
                                                 "2026-11-25T09:06:12.571482+00:00", "pg1"]], separators=(",", ":")), None),
                (base + "/leader", "pg1", lease)]
        for i in range(3):
            host = f"10.{c // 250}.{c % 250}.{i + 1}"
            data = {"conn_url": f"postgres://{host}:5432/postgres", "api_url": f"http://{host}:8008/patroni",
                    "state": "running", "role": "primary" if i == 0 else "replica", "version": "4.1.5",
                    "xlog_location": optime, "timeline": 1}
            if i:
                data.update(receive_lsn=optime, replay_lsn=optime - 1024 * i, replication_state="streaming")
            ops.append((f"{base}/members/pg{i + 1}", json.dumps(data, separators=(",", ":")), lease))
    for chunk in range(0, len(ops), 100):
        lines = "".join(f"put{' --lease=' + l if l else ''} {k} {json.dumps(v)}\n" for k, v, l in ops[chunk:chunk + 100])
        etcdctl("txn", stdin="\n" + lines + "\n\n")


def fleet(args, runs):
    """The fleet case: `list --all` over 1,000 clusters against patronictl given the 1,000 names."""
    url = "etcd3://" + os.environ["SANDBOX_ETCD_URL"].split("://", 1)[1] + "/" + FLEET_NS
    names = [f"c{c:04d}" for c in range(1000)]
    try:
        write_fleet(len(names))
        ours = [os.path.abspath(args.patctl), "-d", url]
        theirs = [args.patronictl, "-d", url]
        r = measure([("patctl", ours)], ["list", "--all"], runs)
        walls, rss = r["patctl"]
        t = measure([("patronictl", theirs)], ["list", *names], 3)
        twalls, trss = t["patronictl"]
        ratio = statistics.median(twalls) / statistics.median(walls)
        print("\nfleet: 1,000 clusters x 3 members in one namespace (leased keys)\n")
        print("| command | median ms (min–max) | peak RSS MiB |")
        print("| --- | --- | --- |")
        print(f"| `patctl list --all` ({runs} runs) | {fmt_ms(statistics.median(walls))} "
              f"({fmt_ms(min(walls))}–{fmt_ms(max(walls))}) | {max(rss) / 1024:.1f} |")
        print(f"| `patronictl list <1,000 names>` (3 runs) | {fmt_ms(statistics.median(twalls))} "
              f"({fmt_ms(min(twalls))}–{fmt_ms(max(twalls))}) | {max(trss) / 1024:.1f} |")
        print(f"\nratio {ratio:.0f}× (issue 15: patctl ≤ 100 ms and ≥ 50×)")
    finally:
        etcdctl("del", "--prefix", f"/{FLEET_NS}/")


class Watcher:
    """An independent `etcdctl watch` on the cluster prefix: every event with its arrival time."""

    def __init__(self, prefix):
        env = dict(os.environ, ETCDCTL_API="3")
        self.prefix = prefix
        self.events = []  # (arrival wall time, key relative to prefix, value or None)
        self.proc = subprocess.Popen(
            ["etcdctl", "--endpoints", os.environ["SANDBOX_ETCD_URL"], "watch", "--prefix", prefix, "-w", "json"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            now = time.time()
            try:
                resp = json.loads(line)
            except ValueError:
                continue
            for ev in resp.get("Events") or []:
                kv = ev.get("kv", {})
                key = base64.b64decode(kv.get("key", "")).decode()
                value = None if ev.get("type") == 1 else base64.b64decode(kv.get("value", "")).decode()
                self.events.append((now, key[len(self.prefix):], value))

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def stages_hold(state, old_leader, old_tl, max_lag):
    """How many of the three --wait stages hold in one DCS state (patctl's rules, re-stated here)."""
    def member(name):
        try:
            return json.loads(state.get(f"members/{name}") or "{}")
        except ValueError:
            return {}
    leader = state.get("leader")
    if not leader or leader == old_leader:
        return 0
    lm = member(leader)
    if lm.get("state") != "running" or lm.get("role") not in ("primary", "master", "standby_leader") \
            or not (lm.get("timeline") or 0) > (old_tl or 0):
        return 0
    try:
        optime = json.loads(state.get("status") or "{}").get("optime") or 0
    except ValueError:
        optime = 0
    last = max(optime, lm.get("xlog_location") or 0)

    def streams(m, limit):
        pos = max([m.get(k) or 0 for k in ("receive_lsn", "replay_lsn", "xlog_location")])
        return m.get("state") in ("running", "streaming") and m.get("role") == "replica" \
            and m.get("replication_state") == "streaming" and m.get("timeline") == lm.get("timeline") \
            and last - pos <= limit
    if not streams(member(old_leader), float("inf")):
        return 1
    names = [k[len("members/"):] for k in state if k.startswith("members/")]
    if not all(streams(member(n), max_lag) for n in names if n != leader):
        return 2
    return 3


def bench_wait(patctl, runs):
    """Real switchovers with --wait -o json: per stage, noticedAt minus the arrival at an independent
    watcher of the event after which the DCS showed the stage reached."""
    prefix = "/service/demo/"
    deltas = {"leader": [], "rejoin": [], "replicas": []}
    for i in range(runs):
        snap = json.loads(etcdctl("get", "--prefix", prefix, "-w", "json").stdout)
        state = {base64.b64decode(kv["key"]).decode()[len(prefix):]: base64.b64decode(kv.get("value", "")).decode()
                 for kv in snap.get("kvs", [])}
        old = state.get("leader")
        old_tl = json.loads(state.get(f"members/{old}", "{}")).get("timeline")
        cand = "node2" if old != "node2" else "node1"
        watcher = Watcher(prefix)
        time.sleep(0.5)  # the watch is established
        out = subprocess.run(patctl + ["switchover", "--candidate", cand, "--force", "--wait", "-o", "json"],
                             capture_output=True, text=True)
        time.sleep(0.5)
        watcher.stop()
        doc = json.loads(out.stdout)
        if out.returncode != 0:
            print(f"warning: switchover exited {out.returncode}: {doc.get('error')}", file=sys.stderr)
            continue
        max_lag = doc["data"]["wait"]["maxLagBytes"]
        shown = {}
        for at, key, value in watcher.events:
            if value is None:
                state.pop(key, None)
            else:
                state[key] = value
            held = stages_hold(state, old, old_tl, max_lag)
            for k, name in enumerate(("leader", "rejoin", "replicas")):
                if held > k and name not in shown:
                    shown[name] = at
        for st in doc["data"]["wait"]["stages"]:
            if st["name"] in shown and st["noticedAt"]:
                noticed = datetime.datetime.fromisoformat(st["noticedAt"]).timestamp()
                deltas[st["name"]].append((noticed - shown[st["name"]]) * 1000)
    print(f"\n`switchover --wait` ({runs} real switchovers): stage noticed after the DCS showed it, ms "
          "(noticedAt minus the event's arrival at an independent etcdctl watch; noticedAt has ms precision)\n")
    print("| stage | median | max | samples |")
    print("| --- | --- | --- | --- |")
    for name, d in deltas.items():
        if d:
            print(f"| {name} | {statistics.median(d):.1f} | {max(d):.1f} | {len(d)} |")
        else:
            print(f"| {name} | – | – | 0 |")


def bench_rollout(patctl):
    """A 3-member `rollout --force -o json`: its wall time against the sum of the parts no rollout can
    avoid (each restart as Patroni's POST /restart took it, the switchover until its last --wait stage
    was reached), and the idle time in between."""
    t0 = time.time()
    out = subprocess.run(patctl + ["rollout", "--force", "--wait-timeout", "120", "-o", "json"],
                         capture_output=True, text=True)
    wall = time.time() - t0
    if out.returncode != 0:
        print(f"warning: rollout exited {out.returncode}: {out.stdout[-500:]}", file=sys.stderr)
        return
    doc = json.loads(out.stdout)
    parts = 0.0
    for st in doc["data"]["steps"]:
        parts += st.get("restartSeconds") or 0.0
        sw = st.get("switchover") or {}
        stages = ((sw.get("wait") or {}).get("stages")) or []
        parts += max([x.get("elapsedSeconds") or 0.0 for x in stages] or [0.0])
    total = doc["data"]["totalSeconds"]
    print(f"\n`rollout` (3 members, leader by switchover): wall {wall:.2f} s (reported {total:.2f} s), "
          f"unavoidable parts {parts:.2f} s (restarts + switchover stages), ratio {total / parts:.3f} "
          "(goal <= 1.15)")


def bench_wait_healthy(patctl, runs):
    """`wait --until healthy` while a stopped node3 comes back: its exit minus the arrival, at an
    independent etcdctl watch, of the member-key event after which node3 streams again."""
    prefix = "/service/demo/"
    here = os.path.dirname(os.path.abspath(__file__))
    deltas = []
    for _ in range(runs):
        subprocess.run(["bash", os.path.join(here, "..", "sandbox", "cluster.sh"), "node-stop", "node3"],
                       capture_output=True)
        # Patroni 4 leaves the key to expire; `stopped` (not a missing key) is what makes it unhealthy.
        # node-stop does not wait for Patroni to exit: wait until its REST API is gone (node-start
        # would otherwise find it still running), with the key saying `stopped` (a missing key would
        # make the two other members a healthy cluster).
        api = f"http://127.0.0.1:{int(os.environ['SANDBOX_API_BASE']) + 3}/patroni"
        limit = time.time() + 30
        while time.time() < limit:
            try:
                urllib.request.urlopen(api, timeout=1)
            except urllib.error.HTTPError:
                pass  # Patroni answers (503 while PostgreSQL is down): still running
            except Exception:
                if '"state":"stopped"' in etcdctl("get", prefix + "members/node3").stdout.replace(" ", ""):
                    break
            time.sleep(0.2)
        watcher = Watcher(prefix)
        time.sleep(0.5)
        proc = subprocess.Popen(patctl + ["wait", "--until", "healthy", "--wait-timeout", "120"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(["bash", os.path.join(here, "..", "sandbox", "cluster.sh"), "node-start", "node3"],
                       capture_output=True)
        proc.wait()
        done = time.time()
        time.sleep(0.3)
        watcher.stop()
        shown = None
        for at, key, value in watcher.events:
            if key == "members/node3" and value and '"replication_state":"streaming"' in value.replace(" ", ""):
                shown = at
                break
        if shown and proc.returncode == 0:
            deltas.append((done - shown) * 1000)
    print(f"\n`wait --until healthy` ({runs} runs, node3 stopped then started): exit after the DCS showed "
          "node3 streaming, ms (process exit minus the event's arrival at an independent etcdctl watch)\n")
    if deltas:
        print(f"median {statistics.median(deltas):.1f} ms, max {max(deltas):.1f} ms (goal <= 100 ms)")


def check_cluster(patctl, list_median, args):
    """`check` of one cluster: patctl against check_patroni 2.2 (same -e endpoints), and patctl without
    -e (endpoints from the DCS); targets: within 2x of `list`, at least 50x faster than check_patroni."""
    n, base = int(os.environ.get("SANDBOX_NODES", "3")), int(os.environ["SANDBOX_API_BASE"])
    endpoints = ",".join(f"http://127.0.0.1:{base + i}" for i in range(1, n + 1))
    check = ["check", "-e", endpoints, "cluster_has_replica"]
    r = {}
    r.update(measure([("patctl", [patctl[0], "check"]), ("check_patroni", [args.check_patroni])],
                     check[1:], args.runs))
    r.update(measure([("patctl (no -e)", patctl + ["check"])], ["cluster_has_replica"], args.runs))
    pw, cw, dw = (statistics.median(r[k][0]) for k in ("patctl", "check_patroni", "patctl (no -e)"))
    print(f"\n`check cluster_has_replica`: patctl -e {fmt_ms(pw)} ms ({max(r['patctl'][1]) / 1024:.1f} MiB), "
          f"patctl from the DCS {fmt_ms(dw)} ms, check_patroni {fmt_ms(cw)} ms "
          f"({max(r['check_patroni'][1]) / 1024:.1f} MiB): {cw / pw:.0f}x faster than check_patroni; "
          f"{pw / list_median:.2f}x / {dw / list_median:.2f}x `list`'s {fmt_ms(list_median)} ms")
    # What no check process can go under here: starting any process, plus Patroni's answer.
    start = statistics.median(measure([("true", ["/bin/true"])], [], args.runs)["true"][0])
    answer = statistics.median(http_get_seconds(endpoints.split(",")[0], "/cluster")
                               for _ in range(args.runs))
    floor = start + answer
    print(f"floor: a process start (/bin/true) {fmt_ms(start)} ms + Patroni's /cluster answer "
          f"{fmt_ms(answer)} ms = {fmt_ms(floor)} ms (a check there would be {cw / floor:.0f}x "
          f"check_patroni); the rest of patctl's time, {fmt_ms(pw - floor)} ms, is its own start and work")


def http_get_seconds(base_url, path):
    """One GET of path over a fresh connection from this process (no process start): the time the
    server takes to answer, as a check would see it."""
    url = urllib.parse.urlsplit(base_url)
    start = time.perf_counter()
    with socket.create_connection((url.hostname, url.port)) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {url.hostname}\r\nConnection: close\r\n\r\n".encode())
        while s.recv(65536):
            pass
    return time.perf_counter() - start


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
    ap.add_argument("--fast", default=os.path.join(os.path.dirname(__file__), "..", "target", "release-fast", "patctl"),
                    help="the opt-in fast-start build (README 'Build variants'), compared with the default one")
    ap.add_argument("--patronictl", default="/opt/patroni-venv/bin/patronictl")
    ap.add_argument("--only", choices=["builds", "compare", "check", "scale", "doctor", "fleet", "wait", "rollout", "live"])
    ap.add_argument("--wait-runs", type=int, default=4, help="real switchovers for the --wait latency")
    ap.add_argument("--check-patroni", dest="check_patroni", default="/opt/check-patroni-venv/bin/check_patroni")
    args = ap.parse_args()
    cfg = os.environ.get("PATCTL_TEST_CONFIG")
    if not cfg:
        sys.exit('start the sandbox and eval "$(bash sandbox/cluster.sh env)" first')
    patctl = [os.path.abspath(args.patctl), "-c", cfg]
    patronictl = [args.patronictl, "-c", cfg]

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"machine: {cpu}, {os.cpu_count()} cores; {args.runs} alternating runs after 1 warm-up\n")
    if args.only in (None, "builds"):
        builds(args, cfg, patronictl)
    if args.only in (None, "compare"):
        compare(args, patctl, patronictl)
    if args.only == "check":
        list_median = statistics.median(measure([("patctl", patctl)], ["list"], args.runs)["patctl"][0])
        check_cluster(patctl, list_median, args)
    if args.only in (None, "scale"):
        scale(args, patctl, patronictl)
    if args.only in (None, "doctor"):
        bench_doctor(patctl, args.runs)
    if args.only in (None, "fleet"):
        fleet(args, args.runs)
    if args.only in (None, "wait"):
        bench_wait(patctl, args.wait_runs)
    if args.only in (None, "rollout"):
        bench_rollout(patctl)
        bench_wait_healthy(patctl, 3)
    if args.only in (None, "live"):
        scopes = []
        try:
            live(patctl, scopes)
        finally:
            for s in scopes:
                etcdctl("del", "--prefix", f"/service/{s}/")


def elf_type(path):
    out = subprocess.run(["readelf", "-h", path], capture_output=True, text=True).stdout
    return next((l.split(":", 1)[1].split()[0] for l in out.splitlines() if l.strip().startswith("Type:")), "?")


def builds(args, cfg, patronictl):
    """The hardened default build and the opt-in fast-start build side by side, in the same run: `list`
    against patronictl, `--help`, binary sizes (both are stripped by the release profiles)."""
    variants = [("default", os.path.abspath(args.patctl)), ("fast-start", os.path.abspath(args.fast))]
    variants = [(n, p) for n, p in variants if os.path.exists(p)]
    if len(variants) < 2:
        print("(fast-start build missing: see README 'Build variants')\n")
    tools = [(n, [p, "-c", cfg]) for n, p in variants] + [("patronictl", patronictl)]
    r = measure(tools, ["list"], args.runs)
    theirs = statistics.median(r["patronictl"][0])
    helps = measure([(n, [p]) for n, p in variants], ["--help"], args.runs)
    print("| build | ELF type | libssl | size MiB (stripped) | `list` median ms | `list` vs patronictl | `--help` median ms |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for n, p in variants:
        ldd = subprocess.run(["ldd", p], capture_output=True, text=True).stdout
        ssl = "shared" if "libssl" in ldd else "static"
        ours = statistics.median(r[n][0])
        print(f"| {n} | {elf_type(p)} | {ssl} | {os.path.getsize(p) / 1048576:.1f} | {fmt_ms(ours)} "
              f"| {theirs / ours:.0f}× | {fmt_ms(statistics.median(helps[n][0]))} |")
    print(f"\npatronictl `list`: median {fmt_ms(theirs)} ms\n")


def compare(args, patctl, patronictl):
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


def scale(args, patctl, patronictl):
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
