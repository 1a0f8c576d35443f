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


if __name__ == "__main__":
    if sys.argv[1] == "debian":
        debian(*sys.argv[2:5])
    elif sys.argv[1] == "lang":
        lang(*sys.argv[2:4])
    else:
        sys.exit("usage: osv_eval.py debian|lang ...")
