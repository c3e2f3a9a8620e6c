#!/usr/bin/python3
"""Print the bigram table of pki/teach_caesar.c: the probability of each letter after each
other letter (or a word's start), and of a word's end after each letter, in English prose, as
natural logarithms in thousandths (-2303 is a probability of 1 in 10).

The prose is the licences every Debian system carries in /usr/share/common-licenses (GPL,
LGPL, GFDL, Apache, MPL, Artistic, BSD, CC0: 190,000 letters). Legal English leans on some
words ("license", "software"), but letter pairs are a property of the language more than of
the subject: with this table the tutorial's examples and any paragraph of plain English
decrypt first (tests/unit/test_teach.c). Run it on Debian 12 to regenerate the table:

    /usr/bin/python3 pki/teach_caesar.py > /tmp/table.c
"""
import glob
import math
import os
import re

BOUNDARY = 26  # a word's start or end: any byte that is not an ASCII letter


def counts():
    pairs = [[0] * 27 for _ in range(27)]
    for path in sorted(glob.glob("/usr/share/common-licenses/*")):
        if os.path.islink(path):  # GPL -> GPL-3: count each text once
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read().lower()
        for word in re.findall(r"[a-z]+", text):
            seq = [BOUNDARY] + [ord(c) - ord("a") for c in word] + [BOUNDARY]
            for a, b in zip(seq, seq[1:]):
                pairs[a][b] += 1
    return pairs


SMOOTH = 0.5  # add-one-half: a pair the prose never had ("qz") is rare, not impossible


def main():
    pairs = counts()
    print("static const short english_logp[27][27] = {")
    for a in range(27):
        total = sum(pairs[a]) + 27 * SMOOTH
        logs = [round(1000 * math.log((n + SMOOTH) / total)) for n in pairs[a]]
        name = chr(ord("a") + a) if a < 26 else "^"
        print(f"\t/* {name} */ {{{', '.join(str(v) for v in logs)}}},")
    print("};")


if __name__ == "__main__":
    main()
