#!/usr/bin/python3
"""Builds layers/semantic/text_model_tables.c, the static text model of the semantic layer.

  python3 layers/semantic/tools/build_text_model.py CORPUS_FILE... > layers/semantic/text_model_tables.c

Each corpus file holds texts separated by a line with a single form feed (\\f). The committed
tables come from two sources (docs/semantic.md):
  - corpus/describer.txt: `scmc describe` on every image of ../shared/data/train at the grid sizes
    of tools/make_corpus.sh (the texts the layer really codes);
  - corpus/english.txt: short English captions written for this project (the --caption path).

The vocabulary is the palette (palette.c), the describer's fixed phrases and common English words.
Tokenisation and contexts mirror text_coder.c exactly; change both together.
"""
import re
import sys
import zlib
import os

HERE = os.path.dirname(os.path.abspath(__file__))

PHRASES = [
    "A very dark", "A dark", "A medium-toned", "A bright", "A very bright", " image, mostly ",
    " and ", "; ", " at the ", ", ", "top left", "top", "top right", "left", "centre", "right",
    "bottom left", "bottom", "bottom right", ".\n", "Colour grid, ", " by ", ":", "\n",
] + [str(n) for n in range(1, 17)]

ENGLISH = [" the", " a", " an", " of", " on", " in", " with", " and", " is", " at", " by", " to",
           " from", " near", " under", " over", " his", " her", " their", " two", " three", " man",
           " woman", " child", " people", " dog", " cat", " bird", " boat", " house", " tree",
           " trees", " sky", " sea", " water", " river", " lake", " mountain", " mountains",
           " field", " flowers", " street", " car", " red", " blue", " green", " yellow", " white",
           " black", " small", " large", " old", " front", " background", " sitting", " standing",
           " wearing", " holding", "The ", "A ", "Two ", ". ", "ing", "ed", "er", "es", "th", "on"]


def palette_names():
    src = open(os.path.join(HERE, "..", "palette.c")).read()
    return re.findall(r'\{ "([^"]+)", \{', src)


def vocabulary():
    seen, vocab = set(), ["", ""]  # 0 END, 1 ESC
    for s in palette_names() + PHRASES + ENGLISH:
        if s not in seen:
            seen.add(s)
            vocab.append(s)
    return vocab


def tokenize(text, vocab):
    """Greedy longest match; bytes no token starts with become (ESC, byte)."""
    data = text.encode("utf-8")
    enc = [v.encode("utf-8") for v in vocab]
    out, pos = [], 0
    while pos < len(data):
        best, best_len = 1, 0
        for t in range(2, len(vocab)):
            n = len(enc[t])
            if n > best_len and data.startswith(enc[t], pos):
                best, best_len = t, n
        if best == 1:
            out.append((1, data[pos]))
            pos += 1
        else:
            out.append((best, None))
            pos += best_len
    return out


class State:
    def __init__(self, vocab):
        self.v = len(vocab)
        self.vocab = vocab
        self.sep = [vocab.index(", "), vocab.index("\n")]
        self.prev = self.last_content = 0
        self.line, self.above, self.slot_open, self.last_flag = [], [], True, 0

    def context(self):
        if self.prev == self.sep[0]:
            return self.v + self.last_content
        if self.prev == self.sep[1]:
            return 2 * self.v + self.last_content
        return self.prev

    def above_token(self):
        if not self.slot_open or len(self.line) >= len(self.above):
            return -1
        a = self.above[len(self.line)]
        return a if a >= 2 else -1

    def push(self, t):
        if t in self.sep:
            self.slot_open = True
        else:
            if self.slot_open and len(self.line) < 64:
                self.line.append(t)
            self.slot_open = False
            self.last_content = t
        s = self.vocab[t] if t >= 2 else ""
        if s.endswith("\n"):
            self.above, self.line, self.slot_open, self.last_flag = self.line, [], True, 0
        self.prev = t


def main():
    vocab = vocabulary()
    v = len(vocab)
    counts, unigram = {}, [1] * v
    flag = [[1, 1] for _ in range(3)]  # [differs, repeats] per flag context, add-one
    byte_counts = [1] * 256
    texts = []
    for path in sys.argv[1:]:
        texts += [t.strip("\n") for t in open(path, encoding="utf-8").read().split("\f\n") if t.strip()]
    for text in texts:
        st = State(vocab)
        for t, byte in tokenize(text, vocab) + [(0, None)]:
            a = st.above_token()
            coded = True
            if a >= 0:
                rep = int(t == a)
                flag[st.last_flag][rep] += 1
                st.last_flag = 1 if rep else 2
                coded = not rep
            if coded:
                key = (st.context(), t)
                counts[key] = counts.get(key, 0) + 1
                unigram[t] += 1
            if byte is not None:
                byte_counts[byte] += 1
            if t != 0:
                st.push(t)
    total = sum(unigram)
    uni = [max(1, round(u * 1024 / total)) for u in unigram]
    bmax = max(byte_counts)
    bc = [max(1, min(65535, b * 65535 // bmax)) for b in byte_counts]
    flag_p = [min(65535, max(1, round(r * 65536 / (d + r)))) for d, r in flag]
    out = sys.stdout
    out.write("/* Generated by layers/semantic/tools/build_text_model.py from %s; do not edit. */\n"
              % ", ".join(os.path.basename(p) for p in sys.argv[1:]))
    out.write("/* %d texts, %d tokens of vocabulary, %d non-zero counts. */\n" % (len(texts), v, len(counts)))
    out.write('#include "text_model.h"\n\n')
    out.write("const char *const scmc_text_vocab[] = {\n    \"\", \"\",\n")
    for s in vocab[2:]:
        out.write('    "%s",\n' % s.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"'))
    out.write("};\nconst int scmc_text_vocab_size = %d;\n\n" % v)
    out.write("const uint16_t scmc_text_unigram[] = {\n")
    for i in range(0, v, 16):
        out.write("    " + ", ".join(str(x) for x in uni[i:i + 16]) + ",\n")
    out.write("};\n\nconst ScmcTextCount scmc_text_counts[] = {\n")
    for (c, t), n in sorted(counts.items()):
        out.write("    { %d, %d, %d },\n" % (c, t, min(n, 65535)))
    if not counts:  # C has no empty initialiser; the count below keeps this entry unused
        out.write("    { 0, 0, 0 },\n")
    out.write("};\nconst int scmc_text_num_counts = %d;\n\n" % len(counts))
    out.write("const uint16_t scmc_text_flag_p[3] = { %s };\n\n" % ", ".join(map(str, flag_p)))
    out.write("const uint16_t scmc_text_byte_counts[256] = {\n")
    for i in range(0, 256, 16):
        out.write("    " + ", ".join(str(x) for x in bc[i:i + 16]) + ",\n")
    out.write("};\n")


if __name__ == "__main__":
    main()
