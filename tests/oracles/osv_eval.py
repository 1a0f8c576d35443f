#!/usr/bin/env python3
"""An independent evaluation of OSV records against the fixtures in ../shared,
written from the OSV schema's own description of range evaluation, sharing
no code with Vedette. Prints "package<TAB>advisory id" per match.

  osv_eval.py debian STATUS_FILE DEBIAN_ZIP RELEASE
      Debian: binary packages matched through their source package; versions
      compared by `dpkg --compare-versions`.
  osv_eval.py lang LANG_DIR FEEDS_OSV_DIR
      The lang/ fixture: PyPI (Python's packaging), npm, crates.io and Go
      (SemVer 2.0 precedence, written here), Go stdlib at 1.19.8 (umoci's
      build info, per the fixtures README).
  osv_eval.py rpm-pick ZIP ECOSYSTEM
      Packages to build for an rpm root, from the records themselves: real
      package names at real fixed versions (the lowest fix of each, so the
      later errata apply), some of them in module streams, one at its
      highest fix. Prints "name<TAB>[epoch:]version-release<TAB>module
      label or -".
  osv_eval.py rpm DBPATH ZIP ECOSYSTEM
      The rpm database at DBPATH (read by `rpm -qa`) against the records
      of ECOSYSTEM (e.g. AlmaLinux:9); versions compared by rpm's own
      labelCompare (python3-rpm: run with Debian's /usr/bin/python3). An
      entry names a binary package or its source rpm; an entry whose
      versions are module builds (".module_el9…") is about the module
      streams its summary names ("nodejs:18"), and applies only to packages
      of those streams, as other entries apply only to packages outside
      modules. Bug fix and enhancement errata (ALBA-, ALEA-) that name no
      CVE and carry no rating are updates, not vulnerabilities: left out.
"""
import json
import os
import re
import subprocess
import sys
import zipfile


def records(zip_path):
    with zipfile.ZipFile(zip_path) as z:
        for name in z.namelist():
            if not name.endswith(".json"):
                continue
            try:
                rec = json.loads(z.read(name))
            except ValueError:
                continue
            if rec.get("withdrawn"):
                continue
            yield rec


def affected(version, ranges, versions, cmp):
    """The OSV schema's evaluation: per range, events sorted by version
    ("0" lowest); introduced at or below opens, fixed at or below closes,
    last_affected below closes."""
    if version in (versions or []):
        return True
    for r in ranges or []:
        if r.get("type") == "GIT":
            continue
        events = []
        for e in r.get("events", []):
            for k, v in e.items():
                events.append((k, v))
        import functools

        def key_cmp(a, b):
            if a[1] == "0" and b[1] == "0":
                return 0
            if a[1] == "0":
                return -1
            if b[1] == "0":
                return 1
            return cmp(a[1], b[1])

        events.sort(key=functools.cmp_to_key(key_cmp))
        state = False
        for k, v in events:
            if k == "introduced":
                if v == "0" or cmp(version, v) >= 0:
                    state = True
            elif k == "fixed":
                if cmp(version, v) >= 0:
                    state = False
            elif k == "last_affected":
                if cmp(version, v) > 0:
                    state = False
        if state:
            return True
    return False


def dpkg_cmp(a, b):
    if a == b:
        return 0
    lt = subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode == 0
    if lt:
        return -1
    eq = subprocess.run(["dpkg", "--compare-versions", a, "eq", b]).returncode == 0
    return 0 if eq else 1


def debian(status_path, zip_path, release):
    pkgs = []
    for stanza in open(status_path, encoding="utf-8").read().split("\n\n"):
        f = {}
        for line in stanza.splitlines():
            if line[:1] in (" ", "\t") or ":" not in line:
                continue
            k, v = line.split(":", 1)
            f[k] = v.strip()
        if "Package" not in f or "install ok installed" not in f.get("Status", ""):
            continue
        src, srcver = f["Package"], f["Version"]
        if "Source" in f:
            m = re.match(r"^(\S+)(?:\s+\((.+)\))?$", f["Source"])
            src = m.group(1)
            if m.group(2):
                srcver = m.group(2)
        pkgs.append((f["Package"], src, srcver))
    by_src = {}
    for rec in records(zip_path):
        for a in rec.get("affected", []):
            p = a.get("package", {})
            if p.get("ecosystem") == "Debian:" + release:
                by_src.setdefault(p.get("name"), []).append((rec["id"], a))
    for binary, src, ver in pkgs:
        for rid, a in by_src.get(src, []):
            if affected(ver, a.get("ranges"), a.get("versions"), dpkg_cmp):
                print(f"{binary}\t{rid}")


def semver_key(v):
    v = v.lstrip("v").split("+", 1)[0]
    core, _, pre = v.partition("-")
    nums = [int(x) for x in core.split(".")]
    while len(nums) < 3:
        nums.append(0)
    return nums, pre


def semver_cmp(a, b):
    (na, pa), (nb, pb) = semver_key(a), semver_key(b)
    if na != nb:
        return -1 if na < nb else 1
    if pa == pb:
        return 0
    if not pa:
        return 1
    if not pb:
        return -1
    for x, y in zip(pa.split("."), pb.split(".")):
        if x == y:
            continue
        if x.isdigit() and y.isdigit():
            return -1 if int(x) < int(y) else 1
        if x.isdigit():
            return -1
        if y.isdigit():
            return 1
        return -1 if x < y else 1
    la, lb = len(pa.split(".")), len(pb.split("."))
    return (la > lb) - (la < lb)


def pep440_cmp(a, b):
    from packaging.version import Version

    x, y = Version(a), Version(b)
    return (x > y) - (x < y)


def norm_pypi(n):
    return re.sub(r"[-_.]+", "-", n).lower()


def lang(root, osv):
    installed = []  # (ecosystem, name as found, name to match, version)
    sp = os.path.join(root, "app/py/site-packages")
    for d in sorted(os.listdir(sp)):
        if d.endswith(".dist-info"):
            meta = open(os.path.join(sp, d, "METADATA"), encoding="utf-8").read()
            name = re.search(r"^Name: (.+)$", meta, re.M).group(1).strip()
            ver = re.search(r"^Version: (.+)$", meta, re.M).group(1).strip()
            installed.append(("PyPI", name, norm_pypi(name), ver))
    nm = os.path.join(root, "app/node/node_modules")
    for d in sorted(os.listdir(nm)):
        pj = os.path.join(nm, d, "package.json")
        if os.path.isfile(pj):
            j = json.load(open(pj))
            installed.append(("npm", j["name"], j["name"], j["version"]))
    lock = open(os.path.join(root, "app/rust/Cargo.lock"), encoding="utf-8").read()
    for m in re.finditer(r'\[\[package\]\]\nname = "([^"]+)"\nversion = "([^"]+)"(\nsource)?', lock):
        if m.group(3):  # from a registry: the app itself is not on crates.io
            installed.append(("crates.io", m.group(1), m.group(1), m.group(2)))
    installed.append(("Go", "stdlib", "stdlib", "1.19.8"))
    cmps = {"PyPI": pep440_cmp, "npm": semver_cmp, "crates.io": semver_cmp, "Go": semver_cmp}
    for eco in ("PyPI", "npm", "crates.io", "Go"):
        want = {n: (shown, v) for e, shown, n, v in installed if e == eco}
        for rec in records(os.path.join(osv, eco, "all.zip")):
            for a in rec.get("affected", []):
                p = a.get("package", {})
                n = p.get("name", "")
                n = norm_pypi(n) if eco == "PyPI" else n
                if p.get("ecosystem") == eco and n in want:
                    shown, v = want[n]
                    if affected(v, a.get("ranges"), a.get("versions"), cmps[eco]):
                        print(f"{shown}\t{rec['id']}")
                        break


def evr_tuple(s):
    epoch, _, vr = s.rpartition(":")
    version, _, release = vr.rpartition("-")
    if not version:
        version, release = vr, None
    return (epoch or "0", version, release)


def rpm_cmp(a, b):
    import rpm

    return rpm.labelCompare(evr_tuple(a), evr_tuple(b))


def modular(evr):
    release = evr.rpartition("-")[2]
    return ".module_el" in release or ".module+el" in release


STREAM = re.compile(r"^[A-Za-z0-9._+-]+:[A-Za-z0-9._+-]+$")


def streams_of(summary):
    found = [w.rstrip(",;") for w in (summary or "").split()]
    return {w for w in found if STREAM.match(w)}


def entry_versions(a):
    return [v for r in a.get("ranges") or [] for e in r.get("events", []) for v in e.values()]


def is_security(rec):
    if not rec["id"].startswith(("ALBA-", "ALEA-")):
        return True
    cves = [c for c in rec.get("related", []) + rec.get("aliases", []) if c.startswith("CVE-")]
    rating = (rec.get("summary") or "").split(":")[0]
    return bool(cves) or rating in ("Critical", "Important", "Moderate", "Low")


def rpm_entries(zip_path, ecosystem):
    """(record, entry, streams or None for an entry outside modules)."""
    for rec in records(zip_path):
        if not is_security(rec):
            continue
        for a in rec.get("affected", []):
            if a.get("package", {}).get("ecosystem") != ecosystem:
                continue
            is_mod = any(modular(v) for v in entry_versions(a))
            yield rec, a, (streams_of(rec.get("summary")) if is_mod else None)


def rpm_pick(zip_path, ecosystem):
    import functools

    plain, mods = {}, {}
    for rec, a, streams in rpm_entries(zip_path, ecosystem):
        name = a["package"]["name"]
        fixes = [e["fixed"] for r in a.get("ranges") or [] for e in r.get("events", []) if "fixed" in e]
        if streams is None:
            plain.setdefault(name, set()).update(fixes)
        elif len(streams) == 1:
            mods.setdefault((name, next(iter(streams))), set()).update(fixes)
    order = functools.cmp_to_key(rpm_cmp)
    # Names rpmbuild can take as they are, with two fixes or more.
    ok = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
    names = sorted(n for n, f in plain.items() if len(f) >= 2 and ok.match(n))
    chosen = names[:: max(1, len(names) // 30)][:30]
    for n in chosen:
        print(f"{n}\t{sorted(plain[n], key=order)[0]}\t-")
    # One more at its highest fix: nothing applies to it.
    last = [n for n in names if n not in chosen][-1]
    print(f"{last}\t{sorted(plain[last], key=order)[-1]}\t-")
    # Module streams: three packages, each at its stream's lowest fix.
    seen = set()
    for (n, stream), fixes in sorted(mods.items()):
        if len(fixes) < 2 or n in seen or n in chosen or n == last or not ok.match(n) or len(seen) == 3:
            continue
        seen.add(n)
        module, st = stream.split(":")
        print(f"{n}\t{sorted(fixes, key=order)[0]}\t{module}:{st}:9000020230000000:rhel9")


def rpm_eval(dbpath, zip_path, ecosystem):
    out = subprocess.run(
        ["rpm", "--dbpath", dbpath, "--define", "_db_backend sqlite", "-qa", "--qf",
         "%{NAME}\\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\\t%{SOURCERPM}\\t%{MODULARITYLABEL}\\n"],
        check=True, capture_output=True, text=True).stdout
    installed = []
    for line in out.splitlines():
        name, evr, srpm, label = line.split("\t")
        source = srpm[: -len(".src.rpm")].rsplit("-", 2)[0] if srpm.endswith(".src.rpm") else name
        stream = ":".join(label.split(":")[:2]) if label and label != "(none)" else None
        if stream is None and modular(evr):
            stream = "*"
        installed.append((name, source, evr, stream))
    entries = list(rpm_entries(zip_path, ecosystem))
    for name, source, evr, stream in installed:
        for rec, a, streams in entries:
            if a["package"]["name"] not in (name, source):
                continue
            if (stream is None) != (streams is None):
                continue
            if stream not in (None, "*") and streams and stream not in streams:
                continue
            if affected(evr, a.get("ranges"), a.get("versions"), rpm_cmp):
                print(f"{name}\t{rec['id']}")


if __name__ == "__main__":
    if sys.argv[1] == "debian":
        debian(*sys.argv[2:5])
    elif sys.argv[1] == "lang":
        lang(*sys.argv[2:4])
    elif sys.argv[1] == "rpm-pick":
        rpm_pick(*sys.argv[2:4])
    elif sys.argv[1] == "rpm":
        rpm_eval(*sys.argv[2:5])
    else:
        sys.exit("usage: osv_eval.py debian|lang|rpm-pick|rpm ...")
