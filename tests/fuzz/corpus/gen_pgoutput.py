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
        # Streaming (protocol 2): two blocks of transaction 900 with a
        # subtransaction 901 aborted, a message, a whole transaction 902
        # aborted, then the Stream Commit of 900.
        "streaming": [w(0x20, b"S" + struct.pack(">IB", 900, 1)),
                      w(0x21, b"R" + struct.pack(">I", 900) + rel[5:]),
                      w(0x22, b"I" + struct.pack(">II", 900, 16384) + b"N" + tup(ROW)),
                      w(0x23, b"I" + struct.pack(">II", 901, 16384) + b"N" + tup(ROW2)),
                      w(0x24, b"E"),
                      w(0x25, b"S" + struct.pack(">IB", 902, 1)),
                      w(0x26, b"T" + struct.pack(">IIBI", 902, 1, 0, 16384)),
                      w(0x27, b"E"),
                      w(0x28, b"A" + struct.pack(">II", 902, 902)),
                      w(0x29, b"S" + struct.pack(">IB", 900, 0)),
                      w(0x2a, b"M" + struct.pack(">IBQ", 900, 1, 0x2a) + s("pfx")
                        + struct.pack(">I", 3) + b"\0\xff\n"),
                      w(0x2b, b"O" + struct.pack(">Q", 5) + s("origin")),
                      w(0x2c, b"E"),
                      w(0x2d, b"A" + struct.pack(">II", 900, 901)),
                      w(0x2e, b"c" + struct.pack(">IBQQQ", 900, 0, 0x2d, 0x2f, 700000000000000)),
                      k(0x2f)],
        # Logical messages outside a transaction and in one; broken ones.
        "messages": [w(0x30, b"M" + struct.pack(">BQ", 0, 0x30) + s("nt")
                       + struct.pack(">I", 4) + b"\x00\x01\xfe\xff"),
                     w(0x31, begin),
                     w(0x32, b"M" + struct.pack(">BQ", 1, 0x32) + s("tx\u00e9")
                       + struct.pack(">I", 0)),
                     w(0x33, commit),
                     w(0x34, b"M" + struct.pack(">BQ", 1, 0x34) + s("outside")
                       + struct.pack(">I", 0)),
                     w(0x35, b"M" + struct.pack(">BQ", 0, 0x35) + s("short")
                       + struct.pack(">I", 99) + b"x"),
                     w(0x36, b"E"), w(0x37, b"c" + struct.pack(">I", 1)),
                     w(0x38, b"S" + struct.pack(">IB", 5, 1)), w(0x39, b"B"),
                     w(0x3a, b"S" + struct.pack(">IB", 5, 1))],
        "errors": [w(1, b"I" + struct.pack(">I", 5) + b"N" + tup([b"1"])), w(2, commit),
                   w(3, begin), w(4, b"I"), w(5, b"Z"), k(1), b"x", w(6, rel[:20])],
    }
    for name, frames in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(stream(frames))


if __name__ == "__main__":
    main()
