#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_pgoutput (tests/fuzz/corpus/pgoutput/):
frame streams as the walsender sends them, per ox_pgoutput.h."""

import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pgoutput")


def s(x):
    return x.encode() + b"\0"


def w(lsn, msg):
    return b"w" + struct.pack(">QQQ", lsn, lsn + 100, 0) + msg


def k(end, reply=0):
    return b"k" + struct.pack(">QQB", end, 0, reply)


def stream(frames):
    return b"".join(struct.pack(">I", len(f)) + f for f in frames)


def relation(relid, nsp, name, ident, cols):
    m = b"R" + struct.pack(">I", relid) + s(nsp) + s(name) + ident + struct.pack(">H", len(cols))
    for flags, cname, oid in cols:
        m += struct.pack(">B", flags) + s(cname) + struct.pack(">Ii", oid, -1)
    return m


def tup(vals):
    m = struct.pack(">H", len(vals))
    for v in vals:
        if v is None:
            m += b"n"
        elif v == "u":
            m += b"u"
        else:
            m += b"t" + struct.pack(">I", len(v)) + v
    return m


COLS = [(1, "id", 23), (0, "f", 701), (0, "n", 1700), (0, "b", 16), (0, "by", 17),
        (0, "j", 3802), (0, "t", 25)]
ROW = [b"1", b"NaN", b"12.50", b"t", b"\\x00ff", b'{"a": [1, 2.5]}', b"h\xc3\xa9\"\n"]
ROW2 = [b"2", b"1e+100", b"-Infinity", b"f", b"\\x", b"null", None]


def main():
    os.makedirs(OUT, exist_ok=True)
    begin = b"B" + struct.pack(">QQI", 0x1000, 700000000000000, 742)
    commit = b"C" + struct.pack(">BQQQ", 0, 0x1000, 0x1100, 700000000000000)
    rel = relation(16384, "public", "t", b"d", COLS)
    seeds = {
        "basic": [w(0x900, begin), w(0x901, rel), w(0x902, b"I" + struct.pack(">I", 16384) + b"N"
                                                  + tup(ROW)),
                  w(0x903, b"U" + struct.pack(">I", 16384) + b"K" + tup([b"1"] + [None] * 6)
                    + b"N" + tup(ROW2[:1] + ["u"] + ROW2[2:])),
                  w(0x904, b"D" + struct.pack(">I", 16384) + b"O" + tup(ROW2)),
                  w(0x905, b"T" + struct.pack(">IBI", 1, 2, 16384)),
                  w(0x906, commit), k(0x1100, 1)],
        "full_identity": [w(0x10, relation(7, "s", "f", b"f", COLS[:3])), w(0x11, begin),
                          w(0x12, b"U" + struct.pack(">I", 7) + b"O" + tup(ROW[:3]) + b"N"
                            + tup(ROW2[:3])),
                          w(0x13, b"O" + struct.pack(">Q", 5) + s("origin")),
                          w(0x14, b"Y" + struct.pack(">I", 99) + s("public") + s("mood")),
                          w(0x15, b"M" + struct.pack(">BQ", 1, 5) + s("p") + struct.pack(">I", 1)
                            + b"x"),
                          w(0x16, commit)],
        "errors": [w(1, b"I" + struct.pack(">I", 5) + b"N" + tup([b"1"])), w(2, commit),
                   w(3, begin), w(4, b"I"), w(5, b"Z"), k(1), b"x", w(6, rel[:20])],
    }
    for name, frames in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(stream(frames))


if __name__ == "__main__":
    main()
