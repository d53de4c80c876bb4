#!/usr/bin/env python3
"""Reads the forms of `tund show` (issue 14) for the end-to-end tests.

  status_forms.py get JSON IFACE PEER FIELD   a peer's field (lists joined by ','; PEER '-':
                                              the interface's field)
  status_forms.py peers JSON IFACE            the peers' names, one a line
  status_forms.py agree JSON DUMP PROM TEXT   the four forms, taken one after another on a
                                              quiet tunnel, say the same per peer (and the
                                              same threads; frames by thread never fewer
                                              than the JSON's, which was taken first)
  status_forms.py schema JSON SCHEMA          JSON validates against the documented schema
  status_forms.py series PROM                 every series (name{labels}) and its value
  status_forms.py cmp-scrape SHOW SCRAPE      same series in both; counters in SCRAPE >= SHOW
Exit 0 when it holds; 1 with one line per problem (at most 20) on stdout.
"""
import json
import re
import sys

SERIES = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def interface(doc, name):
    for iface in doc["interfaces"]:
        if iface["interface"] == name:
            return iface
    raise SystemExit(f"no interface {name} in the JSON")


def peer(iface, name):
    for p in iface["peers"]:
        if p["name"] == name:
            return p
    raise SystemExit(f"no peer {name} on {iface['interface']} in the JSON")


def show_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return ",".join(str(x) for x in v)
    if isinstance(v, dict):
        return json.dumps(v, sort_keys=True)
    return str(v)


def parse_prom(path):
    """{(name, frozenset(labels)): float}; comments checked for shape only."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            m = SERIES.match(line)
            if not m:
                raise SystemExit(f"not a Prometheus series line: {line!r}")
            labels = frozenset(LABEL.findall(m.group(3) or ""))
            out[(m.group(1), labels)] = float(m.group(4))
    return out


def human_bytes(n):
    # render.hpp: "0 B", "512 B", "1.50 KiB", "3.40 GiB" (IEC, two decimals).
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        value /= 1024.0
        if value < 1024.0 or unit == "EiB":
            return f"{value:.2f} {unit}"
    return str(n)


class Problems:
    def __init__(self):
        self.items = []

    def check(self, ok, text):
        if not ok:
            self.items.append(text)

    def finish(self):
        for p in self.items[:20]:
            print(p)
        return 1 if self.items else 0


def dump_state(p):
    return p["state"]


DUMP_FIELDS = 15


def frames_not_fewer(where, got, want, probs):
    """Frames by thread in a form taken after the JSON: as many threads, none went down."""
    probs.check(len(got) == len(want) and all(g >= w for g, w in zip(got, want)),
                f"{where}: frames by thread {got}, JSON (taken first) {want}")


def agree_dump(doc, dump_path, probs):
    rows = {}
    with open(dump_path, encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            probs.check(len(fields) == DUMP_FIELDS,
                        f"dump: {len(fields)} fields, not {DUMP_FIELDS}: {line!r}")
            if len(fields) == DUMP_FIELDS:
                rows[(fields[0], fields[1])] = fields
    for iface in doc["interfaces"]:
        for p in iface["peers"]:
            row = rows.pop((iface["interface"], p["name"]), None)
            where = f"dump {iface['interface']}/{p['name']}"
            probs.check(row is not None, f"{where}: no line")
            if row is None:
                continue
            addrs = p["macs"] if iface["mode"] == "tap" else p["allowed_ips"]
            want = [p["public_key"] or "(none)", dump_state(p), p["endpoint"] or "(none)",
                    ",".join(addrs) or "(none)", str(p["latest_handshake"]),
                    str(p["rx_bytes"]), str(p["tx_bytes"]), str(p["rx_packets"]),
                    str(p["tx_packets"]), str(sum(p["dropped"].values())),
                    p["cipher"] or "(none)"]
            names = ["public_key", "state", "endpoint", "allowed_ips|macs", "latest_handshake",
                     "rx_bytes", "tx_bytes", "rx_packets", "tx_packets", "dropped", "cipher"]
            for name, got, exp in zip(names, row[2:], want):
                probs.check(got == exp, f"{where}: {name} {got!r} in the dump, {exp!r} in JSON")
            probs.check(row[13] == str(iface["threads"]),
                        f"{where}: threads {row[13]!r} in the dump, {iface['threads']} in JSON")
            got = [] if row[14] == "(none)" else [int(x) for x in row[14].split(",")]
            frames_not_fewer(where, got, iface["thread_frames"], probs)
    probs.check(not rows, f"dump: lines for peers not in the JSON: {sorted(rows)}")


def agree_prom(doc, prom_path, probs):
    series = parse_prom(prom_path)
    by_name = {}
    for (name, labels), value in series.items():
        by_name.setdefault(name, []).append((dict(labels), value))

    def value_of(name, **want):
        hits = [v for labels, v in by_name.get(name, [])
                if all(labels.get(k) == x for k, x in want.items())]
        return hits[0] if len(hits) == 1 else None

    for iface in doc["interfaces"]:
        ifn = iface["interface"]
        for p in iface["peers"]:
            where = f"prometheus {ifn}/{p['name']}"
            pairs = [("tund_peer_receive_bytes_total", p["rx_bytes"]),
                     ("tund_peer_transmit_bytes_total", p["tx_bytes"]),
                     ("tund_peer_receive_packets_total", p["rx_packets"]),
                     ("tund_peer_transmit_packets_total", p["tx_packets"]),
                     ("tund_peer_up", 1 if p["up"] else 0),
                     ("tund_peer_last_handshake_timestamp_seconds", p["latest_handshake"])]
            for name, exp in pairs:
                got = value_of(name, interface=ifn, peer=p["name"])
                probs.check(got == exp, f"{where}: {name} {got} (JSON {exp})")
            for reason, exp in p["dropped"].items():
                got = value_of("tund_peer_dropped_packets_total", interface=ifn,
                               peer=p["name"], reason=reason)
                probs.check(got == exp, f"{where}: dropped {reason} {got} (JSON {exp})")
            info = value_of("tund_peer_info", interface=ifn, peer=p["name"],
                            public_key=p["public_key"], endpoint=p["endpoint"])
            probs.check(info == 1, f"{where}: no tund_peer_info with key and endpoint {p['endpoint']!r}")
        probs.check(any(l.get("interface") == ifn for l, _ in by_name.get("tund_build_info", [])),
                    f"prometheus {ifn}: no tund_build_info")
        got = value_of("tund_threads", interface=ifn)
        probs.check(got == iface["threads"],
                    f"prometheus {ifn}: tund_threads {got} (JSON {iface['threads']})")
        frames = sorted((int(l["thread"]), v) for l, v in by_name.get("tund_thread_frames_total", [])
                        if l.get("interface") == ifn)
        probs.check([t for t, _ in frames] == list(range(len(frames))),
                    f"prometheus {ifn}: tund_thread_frames_total threads {[t for t, _ in frames]}")
        frames_not_fewer(f"prometheus {ifn}", [v for _, v in frames], iface["thread_frames"], probs)


def agree_text(doc, text_path, probs):
    with open(text_path, encoding="utf-8") as f:
        text = f.read()
    blocks = re.split(r"(?m)^(?=interface: |peer: )", text)
    for iface in doc["interfaces"]:
        ifn = iface["interface"]
        probs.check(f"interface: {ifn}\n" in text, f"text: no 'interface: {ifn}' line")
        threads = f"\n  threads: {iface['threads']}" + ("\n" if iface["threads"] == 1 else " (")
        probs.check(threads in text, f"text {ifn}: no {threads.strip()!r} line")
        for p in iface["peers"]:
            mine = [b for b in blocks if b.startswith(f"peer: {p['name']}\n")]
            where = f"text {ifn}/{p['name']}"
            probs.check(len(mine) >= 1, f"{where}: no 'peer: {p['name']}' block")
            if not mine:
                continue
            # With several interfaces the same peer name may repeat: any block that fits.
            ok = []
            for b in mine:
                want = [p["endpoint"]] if p["endpoint"] else []
                want += p["macs"] if iface["mode"] == "tap" else p["allowed_ips"]
                if p["rx_bytes"] or p["tx_bytes"]:
                    want += [human_bytes(p["rx_bytes"]), human_bytes(p["tx_bytes"])]
                if p["public_key"]:
                    want.append(p["public_key"])
                ok.append([w for w in want if w not in b])
            best = min(ok, key=len)
            probs.check(not best, f"{where}: the text block lacks {best}")


def cmd_agree(json_path, dump_path, prom_path, text_path):
    doc = load_json(json_path)
    probs = Problems()
    agree_dump(doc, dump_path, probs)
    agree_prom(doc, prom_path, probs)
    agree_text(doc, text_path, probs)
    return probs.finish()


def cmd_schema(json_path, schema_path):
    import jsonschema  # python3-jsonschema (Debian)
    schema = load_json(schema_path)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)  # the schema itself must be valid for its draft
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(load_json(json_path)), key=lambda e: list(e.path))
    for e in errors[:20]:
        print(f"schema: {'/'.join(str(x) for x in e.path)}: {e.message}")
    return 1 if errors else 0


def cmd_series(prom_path):
    for (name, labels), value in sorted(parse_prom(prom_path).items(),
                                        key=lambda kv: (kv[0][0], sorted(kv[0][1]))):
        lab = ",".join(f'{k}="{v}"' for k, v in sorted(labels))
        print(f"{name}{{{lab}}} {value:g}")
    return 0


def cmd_cmp_scrape(show_path, scrape_path):
    show, scrape = parse_prom(show_path), parse_prom(scrape_path)
    probs = Problems()
    # Labels that change live (tund_peer_info's endpoint) may move between the two.
    def key(k):
        return (k[0], frozenset(x for x in k[1] if k[0] != "tund_peer_info" or x[0] != "endpoint"))
    a, b = {key(k): v for k, v in show.items()}, {key(k): v for k, v in scrape.items()}
    for k in sorted(set(a) ^ set(b), key=str):
        probs.check(False, f"series {k[0]}{dict(k[1])} only in {'show' if k in a else 'scrape'}")
    for k in set(a) & set(b):
        if k[0].endswith("_total"):
            probs.check(b[k] >= a[k], f"counter {k[0]}{dict(k[1])} went down: {a[k]} -> {b[k]}")
    return probs.finish()


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "get":
        iface = interface(load_json(args[0]), args[1])
        print(show_value(iface[args[3]] if args[2] == "-" else peer(iface, args[2])[args[3]]))
        return 0
    if cmd == "peers":
        for p in interface(load_json(args[0]), args[1])["peers"]:
            print(p["name"])
        return 0
    table = {"agree": cmd_agree, "schema": cmd_schema, "series": cmd_series,
             "cmp-scrape": cmd_cmp_scrape}
    return table[cmd](*args)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (KeyError, ValueError, OSError) as e:
        print(f"status_forms.py {' '.join(sys.argv[1:2])}: {type(e).__name__}: {e}")
        sys.exit(1)
