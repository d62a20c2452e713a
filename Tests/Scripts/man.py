#!/usr/bin/env python3
"""Generates the man pages of the mlv commands: `make man` and ManPageTests both run this.

    python3 Tests/Scripts/man.py MLV_BINARY GENERATE_MANUAL OUTDIR

swift-argument-parser's generate-manual writes each command's discussion as plain mdoc text
lines, which a man reader fills into one paragraph (the usage tables and examples ran
together), with blank lines mdoc warns about, and without any non-ASCII character (it drops
them: the diff symbols went missing). This rewrites each discussion from the help mlv itself
holds (`mlv --experimental-dump-help`): a blank line becomes a paragraph break (.Pp), every
other line break of the help is kept (.br), and non-ASCII characters become groff's \\[uXXXX].
"""
import json
import os
import subprocess
import sys

DATE = "2026-11-27"  # fixed, so the pages only change when a command does


def escape(text, line_start=True):
    """Text for an mdoc text line (see mandoc's escaping rules)."""
    out = []
    for i, ch in enumerate(text):
        if ch == "\\":
            out.append("\\e")
        elif ord(ch) > 127:
            out.append("\\[u%04X]" % ord(ch))
        elif i == 0 and line_start and ch in ".'":
            out.append("\\&" + ch)
        else:
            out.append(ch)
    return "".join(out)


def as_generated(line):
    """What generate-manual makes of one line of help text once its escapes are undone."""
    return "".join(ch for ch in line if ord(ch) < 128)


def unescape_generated(line):
    return line.replace("\\&", "").replace("\\e", "\\")


def render_discussion(discussion):
    paragraphs, current = [], []
    for line in discussion.rstrip("\n").split("\n"):
        if line.strip():
            current.append(line)
        elif current:
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    out = []
    for i, para in enumerate(paragraphs):
        if i:
            out.append(".Pp")
        for j, line in enumerate(para):
            if j:
                out.append(".br")
            out.append(escape(line))
    return out


def fix_page(path, command):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    discussion = command.get("discussion") or ""
    if discussion:
        start = lines.index(".Sh DESCRIPTION") + 1
        source = discussion.split("\n")
        generated = lines[start:start + len(source)]
        for want, got in zip(source, generated):
            if unescape_generated(got) != as_generated(want):
                sys.exit("man.py: %s: unexpected generated line %r for %r (generate-manual changed?)" % (path, got, want))
        lines[start:start + len(source)] = render_discussion(discussion)
    # Abstracts (the command's, each argument's) with non-ASCII characters, which the
    # generator dropped.
    abstracts = [command.get("abstract") or ""] + [a.get("abstract") or "" for a in command.get("arguments") or []]
    for a in abstracts:
        if not a or all(ord(c) < 128 for c in a):
            continue
        dropped = as_generated(a)
        for i, line in enumerate(lines):
            if line.startswith(".Nd ") and line[4:].strip('"') == dropped:
                lines[i] = '.Nd "%s"' % escape(a, line_start=False).replace('"', "\\(dq")
            elif not line.startswith(".") and unescape_generated(line) == dropped:
                lines[i] = escape(a)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    os.replace(path + ".tmp", path)


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: man.py MLV_BINARY GENERATE_MANUAL OUTDIR")
    mlv, tool, outdir = sys.argv[1:]
    subprocess.run([tool, mlv, "--multi-page", "--date", DATE, "-o", outdir], check=True)
    dump = json.loads(subprocess.run([mlv, "--experimental-dump-help"], check=True, capture_output=True).stdout)

    def walk(command, names):
        page = os.path.join(outdir, ".".join(names) + ".1")
        if os.path.exists(page):
            fix_page(page, command)
        for sub in command.get("subcommands") or []:
            walk(sub, names + [sub["commandName"]])

    walk(dump["command"], ["mlv"])


if __name__ == "__main__":
    main()
