"""The Prometheus side of scripts/bench-alerts.

Usage: compare.py LAB_DIR ILLICO WORK_DIR ALERTMANAGER_CONFIG...

Runs Debian's Prometheus, blackbox exporter and one Alertmanager per config
against a running lab: Prometheus probes every host's /healthz through the
exporter and sends its alerts to every Alertmanager (as an HA pair would be
sent them), each Alertmanager grouping them its own way and posting to a
webhook here. Once every probe succeeds, it freezes datacenter rbx2 for the
scaled ten minutes, heals it, and prints per config the notifications while
down and after heal, the time to the first one, and the first one's content:

    RESULT NAME DOWN HEAL FIRST_SECONDS
    SAMPLE NAME line...

Every port is picked free at run time on 127.0.0.1, and every process it
starts is stopped on exit, even on SIGTERM.
"""

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

SCALE = 10
WINDOW = 600 / SCALE  # the ten minutes after the loss
AFTER = 2 * 300 / SCALE  # two group intervals after heal
RESEND = "6s"  # Prometheus's --rules.alert.resend-delay, 1m at 1/10
FROZEN = "rbx2"
HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hook(http.server.BaseHTTPRequestHandler):
    """Keeps every notification with when it came, by the path it came to."""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.posts.setdefault(self.path.strip("/"), []).append((time.monotonic(), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def fill(src, dst, values):
    with open(src) as f:
        text = f.read()
    for k, v in values.items():
        text = text.replace("@%s@" % k, v)
    with open(dst, "w") as f:
        f.write(text)


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)


def wait_ready(name, url, log, deadline=30):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.2)
    with open(log) as f:
        raise SystemExit("%s did not start within %ds:\n%s" % (name, deadline, f.read()[-2000:]))


def render(body, frozen_hosts):
    """A notification as the on-call engineer reads it: status and group,
    then the first alerts' summaries, and how many frozen hosts it names."""
    group = " ".join("%s=%s" % kv for kv in sorted(body["groupLabels"].items()))
    alerts = body["alerts"]
    lines = ["[%s:%d] %s" % (body["status"].upper(), len(alerts), group)]
    for a in alerts[:3]:
        lines.append("  %s %s: %s" % (a["status"], a["labels"]["alertname"], a["annotations"].get("summary", "")))
    if len(alerts) > 3:
        lines.append("  … and %d more alerts" % (len(alerts) - 3))
    named = {a["labels"].get("host") for a in alerts} & frozen_hosts
    lines.append("  (names %d of the %d frozen hosts; %d bytes of JSON)" % (len(named), len(frozen_hosts), len(json.dumps(body))))
    return lines


def main():
    lab_dir, illico, work, configs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with open(os.path.join(lab_dir, "lab.json")) as f:
        lab = json.load(f)
    frozen_hosts = {h["name"] for h in lab["hosts"] if h["datacenter"] == FROZEN}

    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    hook.posts, hook.lock = {}, threading.Lock()
    threading.Thread(target=hook.serve_forever, daemon=True).start()

    procs = []

    def start(name, argv):
        log = os.path.join(work, name + ".log")
        with open(log, "w") as out:
            procs.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=out, cwd=work))
        return log

    try:
        names, ams = [], []
        for config in configs:
            name = os.path.basename(config)[:-4]
            names.append(name)
            d = os.path.join(work, "am-" + name)
            os.makedirs(d)
            cfg = os.path.join(d, "alertmanager.yml")
            with open(config) as f, open(cfg, "w") as g:
                g.write(f.read().replace("http://webhook.invalid/", "http://127.0.0.1:%d/%s" % (hook.server_address[1], name)))
            addr = "127.0.0.1:%d" % free_port()
            ams.append(addr)
            log = start("am-" + name, ["/usr/bin/prometheus-alertmanager", "--config.file", cfg, "--storage.path", d,
                                       "--web.listen-address", addr, "--cluster.listen-address", ""])
            wait_ready("alertmanager " + name, "http://%s/-/ready" % addr, log)

        blackbox = "127.0.0.1:%d" % free_port()
        log = start("blackbox", ["/usr/bin/prometheus-blackbox-exporter", "--config.file", os.path.join(HERE, "blackbox.yml"),
                                 "--web.listen-address", blackbox])
        wait_ready("blackbox exporter", "http://%s/" % blackbox, log)

        hosts = os.path.join(work, "hosts.json")
        with open(hosts, "w") as f:
            json.dump([{"targets": ["http://%s/healthz" % h["site_address"]],
                        "labels": {"host": h["name"], "datacenter": h["datacenter"], "site": h["site"]}}
                       for h in lab["hosts"]], f)
        cfg = os.path.join(work, "prometheus.yml")
        fill(os.path.join(HERE, "prometheus.yml"), cfg, {
            "RULES": json.dumps(os.path.join(HERE, "rules.yml")),
            "ALERTMANAGERS": ", ".join(json.dumps(a) for a in ams),
            "HOSTS": json.dumps(hosts),
            "BLACKBOX": blackbox,
        })
        prom = "127.0.0.1:%d" % free_port()
        log = start("prometheus", ["/usr/bin/prometheus", "--config.file", cfg, "--storage.tsdb.path", os.path.join(work, "tsdb"),
                                   "--web.listen-address", prom, "--rules.alert.resend-delay", RESEND])
        wait_ready("prometheus", "http://%s/-/ready" % prom, log)

        def count(query):
            r = get_json("http://%s/api/v1/query?query=%s" % (prom, urllib.parse.quote(query)))
            res = r["data"]["result"]
            return int(float(res[0]["value"][1])) if res else 0

        began = time.monotonic()
        while count("count(probe_success == 1)") < len(lab["hosts"]):
            if time.monotonic() - began > 90:
                raise SystemExit("not every probe succeeded within 90s: %d of %d" % (count("count(probe_success == 1)"), len(lab["hosts"])))
            time.sleep(0.5)
        # Two evaluations more, so that a probe that failed while the lab
        # settled has no pending alert left.
        time.sleep(3)
        with hook.lock:
            early = sum(len(p) for p in hook.posts.values())
        if early:
            raise SystemExit("a healthy lab sent %d notifications" % early)
        print("every one of the %d hosts probed up after %.1fs" % (len(lab["hosts"]), time.monotonic() - began), flush=True)

        subprocess.run([illico, "lab", "fault", "--dir", lab_dir, "datacenter=" + FROZEN, "freeze"], check=True, stdout=subprocess.DEVNULL)
        froze = time.monotonic()
        print("froze %s (%d hosts); waiting %ds" % (FROZEN, len(frozen_hosts), WINDOW), flush=True)
        time.sleep(max(0, WINDOW - (time.monotonic() - froze)))
        with hook.lock:
            down = {n: len(hook.posts.get(n, [])) for n in names}
        print("firing in Prometheus at the end of the window: %d" % count('count(ALERTS{alertstate="firing"})'), flush=True)
        subprocess.run([illico, "lab", "heal", "--dir", lab_dir, "datacenter=" + FROZEN], check=True, stdout=subprocess.DEVNULL)
        healed = time.monotonic()
        print("healed %s; waiting %ds" % (FROZEN, AFTER), flush=True)
        time.sleep(AFTER)
        with hook.lock:
            posts = {n: list(hook.posts.get(n, [])) for n in names}
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        hook.shutdown()

    for n in names:
        ps = posts[n]
        first = "%.1f" % (ps[0][0] - froze) if ps else "-"
        print("RESULT %s %d %d %s" % (n, down[n], len(ps) - down[n], first))
        for at, body in ps[:1]:
            for line in render(body, frozen_hosts):
                print("SAMPLE %s %s" % (n, line))
        resolved = [(at, body) for at, body in ps if at >= healed and body["status"] == "resolved"]
        for at, body in resolved[:1]:
            print("SAMPLE %s   first resolved notice %.1fs after heal: [RESOLVED:%d]" % (n, at - healed, len(body["alerts"])))


if __name__ == "__main__":
    main()
