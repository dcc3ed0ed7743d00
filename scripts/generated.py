"""Writing a generated file, or with --check telling whether the committed one is current."""

import sys


def write_or_check(path, text, name, script):
    """Writes text to path; with --check, exits non-zero if path differs (name it, say how to fix)."""
    if "--check" in sys.argv[1:]:
        try:
            with open(path, encoding="utf-8", newline="") as f:
                current = f.read()
        except OSError:
            current = None
        if current != text:
            sys.stderr.write("%s is stale: run %s\n" % (name, script))
            return 1
        print("%s is up to date" % name)
        return 0
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return 0
