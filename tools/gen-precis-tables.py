#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Generate proto/precis_tables.h: the Unicode tables behind tp_precis_opaque().

Usage (from the repository root):
    python3 tools/gen-precis-tables.py [--ucd /usr/share/unicode] [--check]
            [-o proto/precis_tables.h]

Reads the Unicode Character Database (Debian package `unicode-data`):
UnicodeData.txt, PropList.txt, DerivedCoreProperties.txt,
DerivedNormalizationProps.txt, HangulSyllableType.txt, Scripts.txt,
extracted/DerivedJoiningType.txt.  --check regenerates in memory and exits 1
if the committed header differs (nothing is written).

Standard library only.  The build never runs this script: the header is
committed, so CI needs no unicode-data.

What is derived:
  * the PRECIS FreeformClass derived property (RFC 8264 section 8, with the
    categories of section 9 and the Exceptions of RFC 5892 section 2.6) as
    sorted ranges of PVALID / CONTEXTJ / CONTEXTO; everything else is
    DISALLOWED or UNASSIGNED, which OpaqueString treats alike;
  * the non-ASCII spaces (Zs other than U+0020) that OpaqueString maps;
  * Canonical_Combining_Class ranges;
  * full canonical decompositions (Hangul syllables excluded: algorithmic);
  * primary composite pairs (Full_Composition_Exclusion removed);
  * Joining_Type and a few Script ranges for the RFC 5892 appendix A rules.
"""

import argparse
import os
import re
import sys

MAXCP = 0x10FFFF

# Hangul constants (Unicode chapter 3.12)
SBASE, LBASE, VBASE, TBASE = 0xAC00, 0x1100, 0x1161, 0x11A7
LCOUNT, VCOUNT, TCOUNT = 19, 21, 28
NCOUNT = VCOUNT * TCOUNT
SCOUNT = LCOUNT * NCOUNT

# RFC 5892 section 2.6 (Exceptions, category F), used by RFC 8264 section 9.6
EXC_PVALID = [0x00DF, 0x03C2, 0x06FD, 0x06FE, 0x0F0B, 0x3007]
EXC_CONTEXTO = [0x00B7, 0x0375, 0x05F3, 0x05F4, 0x30FB] + \
    list(range(0x0660, 0x066A)) + list(range(0x06F0, 0x06FA))
EXC_DISALLOWED = [0x0640, 0x07FA, 0x302E, 0x302F, 0x3031, 0x3032, 0x3033,
                  0x3034, 0x3035, 0x303B]

# RFC 8264 section 9
LETTER_DIGITS = {"Ll", "Lu", "Lo", "Nd", "Lm", "Mn", "Mc"}
OTHER_LETTER_DIGITS = {"Lt", "Nl", "No", "Me"}
SPACES = {"Zs"}
SYMBOLS = {"Sm", "Sc", "Sk", "So"}
PUNCTUATION = {"Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po"}

CLS_PVALID, CLS_CONTEXTJ, CLS_CONTEXTO = 1, 2, 3
JT_CODES = {"L": 1, "D": 2, "R": 3, "T": 4}   # C and U are not needed
SCRIPTS = {"Greek": 1, "Hebrew": 2, "Hiragana": 3, "Katakana": 4, "Han": 5}


def ucd_lines(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                yield [x.strip() for x in line.split(";")]


def parse_range(s):
    if ".." in s:
        a, b = s.split("..")
        return int(a, 16), int(b, 16)
    return int(s, 16), int(s, 16)


def prop_set(path, name):
    out = set()
    for f in ucd_lines(path):
        if f[1] == name:
            a, b = parse_range(f[0])
            out.update(range(a, b + 1))
    return out


def prop_map(path, wanted):
    out = {}
    for f in ucd_lines(path):
        if f[1] in wanted:
            a, b = parse_range(f[0])
            for cp in range(a, b + 1):
                out[cp] = wanted[f[1]]
    return out


class UCD:
    def __init__(self, d):
        self.dir = d
        self.gc, self.ccc, self.decomp = {}, {}, {}
        first = None
        for f in ucd_lines(os.path.join(d, "UnicodeData.txt")):
            cp, name, gc = int(f[0], 16), f[1], f[2]
            if name.endswith(", First>"):
                first = cp
                continue
            lo = first if name.endswith(", Last>") else cp
            first = None
            for c in range(lo, cp + 1):
                self.gc[c] = gc
                if int(f[3]):
                    self.ccc[c] = int(f[3])
            if f[5]:
                parts = f[5].split()
                compat = parts[0].startswith("<")
                if compat:
                    parts = parts[1:]
                self.decomp[cp] = (compat, [int(x, 16) for x in parts])
        with open(os.path.join(d, "DerivedCoreProperties.txt"), encoding="utf-8") as f:
            m = re.match(r"# DerivedCoreProperties-(\d+\.\d+\.\d+)\.txt", f.readline())
            self.version = m.group(1) if m else "unknown"
        p = os.path.join
        self.ignorable = prop_set(p(d, "DerivedCoreProperties.txt"),
                                  "Default_Ignorable_Code_Point")
        self.nonchar = prop_set(p(d, "PropList.txt"), "Noncharacter_Code_Point")
        self.join_control = prop_set(p(d, "PropList.txt"), "Join_Control")
        self.comp_ex = prop_set(p(d, "DerivedNormalizationProps.txt"),
                                "Full_Composition_Exclusion")
        self.old_jamo = set()
        for t in ("L", "V", "T"):
            self.old_jamo |= prop_set(p(d, "HangulSyllableType.txt"), t)
        self.joining = prop_map(p(d, "extracted", "DerivedJoiningType.txt"), JT_CODES)
        self.script = prop_map(p(d, "Scripts.txt"), SCRIPTS)
        self.compose_map = {}
        for cp, (compat, seq) in self.decomp.items():
            if not compat and len(seq) == 2 and cp not in self.comp_ex:
                self.compose_map[(seq[0], seq[1])] = cp

    # --- normalization, used for HasCompat and for checking the tables ---
    def decompose(self, cp, compat):
        if SBASE <= cp < SBASE + SCOUNT:
            s = cp - SBASE
            out = [LBASE + s // NCOUNT, VBASE + (s % NCOUNT) // TCOUNT]
            if s % TCOUNT:
                out.append(TBASE + s % TCOUNT)
            return out
        d = self.decomp.get(cp)
        if d is None or (d[0] and not compat):
            return [cp]
        out = []
        for c in d[1]:
            out += self.decompose(c, compat)
        return out

    def normalize(self, cps, compat):
        buf = []
        for cp in cps:
            buf += self.decompose(cp, compat)
        # canonical ordering: stable sort of each run of non-starters
        i = 0
        while i < len(buf):
            if self.ccc.get(buf[i], 0) == 0:
                i += 1
                continue
            j = i
            while j < len(buf) and self.ccc.get(buf[j], 0) != 0:
                j += 1
            buf[i:j] = sorted(buf[i:j], key=lambda c: self.ccc.get(c, 0))
            i = j
        # canonical composition
        out, starter, last = [], -1, 0
        for c in buf:
            cc = self.ccc.get(c, 0)
            if starter >= 0 and (len(out) == starter + 1 or last < cc):
                comp = self.compose(out[starter], c)
                if comp is not None:
                    out[starter] = comp
                    continue
            if cc == 0:
                starter = len(out)
            last = cc
            out.append(c)
        return out

    def compose(self, a, b):
        if LBASE <= a < LBASE + LCOUNT and VBASE <= b < VBASE + VCOUNT:
            return SBASE + ((a - LBASE) * VCOUNT + (b - VBASE)) * TCOUNT
        if SBASE <= a < SBASE + SCOUNT and (a - SBASE) % TCOUNT == 0 and \
                TBASE < b < TBASE + TCOUNT:
            return a + (b - TBASE)
        return self.compose_map.get((a, b))

    # --- RFC 8264 section 8: the FreeformClass derived property ---
    def freeform(self, cp):
        gc = self.gc.get(cp)
        if cp in EXC_PVALID:
            return CLS_PVALID
        if cp in EXC_CONTEXTO:
            return CLS_CONTEXTO
        if cp in EXC_DISALLOWED:
            return 0
        # BackwardCompatible (section 9.7) is empty.
        if gc is None and cp not in self.nonchar:
            return 0                              # Unassigned
        if 0x21 <= cp <= 0x7E:
            return CLS_PVALID                     # ASCII7
        if cp in self.join_control:
            return CLS_CONTEXTJ
        if cp in self.old_jamo:
            return 0
        if cp in self.ignorable or cp in self.nonchar:
            return 0                              # PrecisIgnorableProperties
        if gc == "Cc":
            return 0                              # Controls
        if gc in ("Cs", "Co") or gc is None:
            return 0                              # not in any valid category
        if self.normalize([cp], True) != [cp]:
            return CLS_PVALID                     # HasCompat
        if gc in LETTER_DIGITS | OTHER_LETTER_DIGITS | SPACES | SYMBOLS | PUNCTUATION:
            return CLS_PVALID
        return 0                                  # Cf, Zl, Zp, ...


def ranges(values):
    """values: dict cp -> small int (absent = 0). Returns [(lo, hi, v)]."""
    out = []
    for cp in sorted(values):
        v = values[cp]
        if out and out[-1][1] == cp - 1 and out[-1][2] == v:
            out[-1][1] = cp
        else:
            out.append([cp, cp, v])
    return out


def utf8_len(cp):
    return 1 if cp < 0x80 else 2 if cp < 0x800 else 3 if cp < 0x10000 else 4


def emit_ranges(w, name, rs, comment):
    w("/* %s (%d ranges) */\n" % (comment, len(rs)))
    w("static const struct precis_range %s[] = {\n" % name)
    for lo, hi, v in rs:
        w("\t{ 0x%05X, 0x%05X, %d },\n" % (lo, hi, v))
    w("};\n\n")


def generate(u):
    lines = []
    w = lines.append
    cls = {}
    for cp in range(MAXCP + 1):
        v = u.freeform(cp)
        if v:
            cls[cp] = v
    decomp = {}
    worst = 0.0
    for cp in sorted(u.decomp):
        d = u.decompose(cp, False)
        if d != [cp]:
            decomp[cp] = d
            worst = max(worst, len(d) / utf8_len(cp))
    # Hangul: 3 code points from a 3-byte sequence
    worst = max(worst, 1.0)
    assert worst <= 2.0, worst    # precis.c sizes its buffer at 2 per input byte
    maxlen = max(len(d) for d in decomp.values())
    pairs = sorted(u.compose_map.items())

    w("/* SPDX-License-Identifier: BSD-3-Clause */\n")
    w("/*\n * precis_tables.h - Unicode %s tables for tp_precis_opaque() (proto/precis.c).\n"
      % u.version)
    w(" *\n * GENERATED - do not edit.  Regenerate from the repository root with\n"
      " *     apt-get install unicode-data   (Debian 12: Unicode %s)\n"
      " *     python3 tools/gen-precis-tables.py -o proto/precis_tables.h\n"
      " * and check that the committed copy is current with --check.\n */\n"
      % u.version)
    w("#ifndef TP_PRECIS_TABLES_H\n#define TP_PRECIS_TABLES_H\n\n#include <stdint.h>\n\n")
    w("#define PRECIS_UNICODE_VERSION \"%s\"\n" % u.version)
    w("#define PRECIS_DECOMP_MAX %d  /* longest full canonical decomposition */\n\n"
      % maxlen)
    w("struct precis_range {\n\tuint32_t lo, hi;\n\tuint8_t val;\n};\n\n")
    w("struct precis_decomp {\n\tuint32_t cp;\n\tuint16_t off;\n\tuint8_t len;\n};\n\n")
    w("struct precis_comp {\n\tuint32_t a, b, c;\n};\n\n")
    w("enum { PRECIS_PVALID = 1, PRECIS_CONTEXTJ = 2, PRECIS_CONTEXTO = 3 };\n")
    w("enum { PRECIS_JT_L = 1, PRECIS_JT_D = 2, PRECIS_JT_R = 3, PRECIS_JT_T = 4 };\n")
    w("enum { PRECIS_SC_GREEK = 1, PRECIS_SC_HEBREW = 2, PRECIS_SC_HIRAGANA = 3,\n"
      "       PRECIS_SC_KATAKANA = 4, PRECIS_SC_HAN = 5 };\n\n")
    emit_ranges(w, "precis_class", ranges(cls),
                "FreeformClass: PVALID / CONTEXTJ / CONTEXTO; absent = DISALLOWED")
    spaces = {cp: 1 for cp, gc in u.gc.items() if gc == "Zs" and cp != 0x20}
    emit_ranges(w, "precis_space", ranges(spaces),
                "Zs other than U+0020: mapped to U+0020 (RFC 8265 section 4.2.1)")
    emit_ranges(w, "precis_ccc", ranges(u.ccc), "Canonical_Combining_Class != 0")
    emit_ranges(w, "precis_jt", ranges(u.joining), "Joining_Type L, D, R, T")
    emit_ranges(w, "precis_script", ranges(u.script),
                "Script: Greek, Hebrew, Hiragana, Katakana, Han")
    pool = []
    w("/* full canonical decompositions (%d), Hangul syllables excluded */\n"
      % len(decomp))
    w("static const struct precis_decomp precis_decomp[] = {\n")
    for cp, d in sorted(decomp.items()):
        w("\t{ 0x%05X, %d, %d },\n" % (cp, len(pool), len(d)))
        pool += d
    w("};\n\n")
    w("static const uint32_t precis_decomp_pool[] = {\n")
    for i in range(0, len(pool), 8):
        w("\t" + " ".join("0x%05X," % c for c in pool[i:i + 8]) + "\n")
    w("};\n\n")
    w("/* primary composites (%d), sorted by (a, b), Hangul excluded */\n" % len(pairs))
    w("static const struct precis_comp precis_comp[] = {\n")
    for (a, b), c in pairs:
        w("\t{ 0x%05X, 0x%05X, 0x%05X },\n" % (a, b, c))
    w("};\n\n#endif\n")
    assert len(pool) < 65536
    return "".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ucd", default="/usr/share/unicode")
    ap.add_argument("-o", "--output", default="proto/precis_tables.h")
    ap.add_argument("--check", action="store_true",
                    help="compare with the existing output instead of writing it")
    a = ap.parse_args()
    text = generate(UCD(a.ucd))
    if a.check:
        with open(a.output, encoding="utf-8") as f:
            if f.read() != text:
                print("%s is out of date" % a.output, file=sys.stderr)
                return 1
        print("%s is current" % a.output)
        return 0
    with open(a.output, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
