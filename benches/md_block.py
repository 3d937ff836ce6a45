"""Keeps generated figures in hand-written Markdown pages true to their scripts: a script replaces
the text between `<!-- NAME:begin -->` and `<!-- NAME:end -->` and leaves the prose around it."""
import os


def replace_block(text, name, block):
    """text with the lines between NAME's markers replaced by block; ValueError when the page lacks
    them (a script must not silently write nothing)."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    i = text.find(begin)
    j = text.find(end, i + len(begin)) if i >= 0 else -1
    if i < 0 or j < 0:
        raise ValueError(f"no '{begin}' ... '{end}' block")
    return text[:i + len(begin)] + "\n" + block.rstrip("\n") + "\n" + text[j:]


def write_block(path, name, block):
    """Replaces NAME's block in the page at path (written whole through a temporary file)."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    new = replace_block(text, name, block)
    with open(path + ".tmp", "w", encoding="utf-8") as fh:
        fh.write(new)
    os.replace(path + ".tmp", path)
