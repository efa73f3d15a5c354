#!/usr/bin/env python3
"""check_layers.py - fails when a source file includes a header of a layer
above it or beside it.

The layers are those of CMakeLists.txt and docs/architecture.md. CMake
already refuses most wrong includes (a layer's library sees only the
directories of the layers it links); this check reads every
`#include "..."` under src/ and include/ so that the rule also holds for what
CMake cannot see: a file that names a header by a relative path, a header
added to the wrong directory, a new directory in no layer.

Usage: check_layers.py [ROOT]        (ROOT: the source tree, default: this
                                     file's ../..)
       check_layers.py --self-test   (proves the check can fail)
Exit status 0 when every include is allowed, 1 with one line per violation.
"""
import os
import re
import sys
import tempfile

# (layer, paths it owns (a directory ends with '/'; the longest match wins),
#  layers it may include). A layer may always include its own headers.
LAYERS = [
    ("lib", ["src/lib/"], []),
    ("source_api", ["src/source/ox_source.h", "src/source/ox_source.c"], ["lib"]),
    ("binlog", ["src/source/mysql/decode/"], ["lib", "source_api"]),
    ("mysql", ["src/source/mysql/"], ["lib", "source_api", "binlog"]),
    ("pg", ["src/source/pg/"], ["lib", "source_api"]),
    ("source", ["src/source/ox_source_registry.c"], ["lib", "source_api", "mysql", "pg"]),
    ("store", ["src/store/"], ["lib", "source_api", "source"]),
    ("supervisor", ["src/supervisor/"], ["lib"]),
    ("cm", ["src/cm/"], ["lib"]),
    ("public", ["include/"], []),
    ("client", ["src/client/"], ["lib", "public"]),
    ("cli", ["src/cli/"],
     ["lib", "source_api", "binlog", "mysql", "pg", "source", "store", "supervisor", "cm",
      "public", "client"]),
]

# Known violations, each to be deleted when its cause goes: (file, header).
EXCEPTIONS = set()

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
SCANNED = ("src", "include")
SUFFIXES = (".c", ".h", ".h.in")


def layer_of(rel):
    """The layer owning path rel (relative to the root), or None."""
    best, best_len = None, -1
    for name, paths, _ in LAYERS:
        for p in paths:
            hit = rel.startswith(p) if p.endswith("/") else rel == p
            if hit and len(p) > best_len:
                best, best_len = name, len(p)
    return best


def files(root):
    for top in SCANNED:
        for d, _, names in os.walk(os.path.join(root, top)):
            for n in sorted(names):
                if n.endswith(SUFFIXES):
                    yield os.path.relpath(os.path.join(d, n), root)


def resolve(root, rel, target, by_name):
    """The file an include names, as the compiler finds it: beside the
    including file first, then in some layer's directory. None if unknown;
    a list if the bare name is ambiguous."""
    here = os.path.normpath(os.path.join(os.path.dirname(rel), target))
    if os.path.exists(os.path.join(root, here)):
        return here
    if "/" in target:
        for top in SCANNED:
            cand = os.path.normpath(os.path.join(top, target))
            if os.path.exists(os.path.join(root, cand)):
                return cand
        return None
    found = by_name.get(target, []) or by_name.get(target + ".in", [])
    if len(found) == 1:
        return found[0]
    return found or None


def check(root):
    """Returns the list of violations (strings) of the tree at root."""
    errors = []
    for _, paths, _ in LAYERS:
        for p in paths:
            if not os.path.exists(os.path.join(root, p)):
                errors.append(f"{p}: in the layer table but not in the tree")
    known = {name for name, _, _ in LAYERS}
    allowed = {name: set(deps) | {name} for name, _, deps in LAYERS}
    for name, _, deps in LAYERS:
        for d in deps:
            if d not in known:
                errors.append(f"layer {name}: unknown layer {d} in its table")
    all_files = list(files(root))
    by_name = {}
    for f in all_files:
        by_name.setdefault(os.path.basename(f), []).append(f)
    for rel in all_files:
        mine = layer_of(rel)
        if mine is None:
            errors.append(f"{rel}: in no layer (add its directory to the table)")
            continue
        with open(os.path.join(root, rel), errors="replace") as fh:
            for lineno, line in enumerate(fh, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                target = resolve(root, rel, m.group(1), by_name)
                where = f"{rel}:{lineno}: #include \"{m.group(1)}\""
                if target is None:
                    errors.append(f"{where}: no such header in any layer")
                    continue
                if isinstance(target, list):
                    errors.append(f"{where}: ambiguous, one of {', '.join(target)}")
                    continue
                theirs = layer_of(target)
                if theirs in allowed[mine] or (rel, target) in EXCEPTIONS:
                    continue
                errors.append(f"{where}: {target} is in layer {theirs}, which layer {mine} "
                              f"may not include (it may include: "
                              f"{', '.join(sorted(allowed[mine]))})")
    return errors


def self_test():
    """A tree with one upward and one sideways include must fail twice; the
    same tree without them must pass."""
    with tempfile.TemporaryDirectory() as root:
        for _, paths, _ in LAYERS:
            for p in paths:
                full = os.path.join(root, p)
                if p.endswith("/"):
                    os.makedirs(full, exist_ok=True)
                else:
                    os.makedirs(os.path.dirname(full), exist_ok=True)
                    open(full, "w").close()
        for f, _ in EXCEPTIONS:
            open(os.path.join(root, f), "a").close()
        for _, h in EXCEPTIONS:
            open(os.path.join(root, h), "a").close()

        def write(rel, text):
            with open(os.path.join(root, rel), "w") as fh:
                fh.write(text)

        write("src/lib/ox_a.h", "")
        write("src/supervisor/ox_sv.h", '#include "ox_a.h"\n')
        write("src/store/ox_st.h", "")
        write("src/cm/cm_x.c", '#include "ox_a.h"\n#include "ox_sv.h"\n')
        write("src/lib/ox_b.c", '#include "ox_a.h"\n#include "../store/ox_st.h"\n')
        bad = check(root)
        if len(bad) != 2 or "layer cm" not in bad[0] + bad[1] or "layer lib" not in bad[0] + bad[1]:
            print("self-test: the check missed a violation:", *bad, sep="\n  ")
            return 1
        write("src/cm/cm_x.c", '#include "ox_a.h"\n')
        write("src/lib/ox_b.c", '#include "ox_a.h"\n')
        good = check(root)
        if good:
            print("self-test: the check refused a clean tree:", *good, sep="\n  ")
            return 1
    print("self-test: ok (2 violations found, clean tree passed)")
    return 0


def main(argv):
    if len(argv) > 1 and argv[1] == "--self-test":
        return self_test()
    root = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    errors = check(os.path.abspath(root))
    for e in errors:
        print(e)
    if errors:
        print(f"check_layers: {len(errors)} violation(s); the layers are in "
              "tests/layers/check_layers.py and docs/architecture.md")
        return 1
    print("check_layers: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
