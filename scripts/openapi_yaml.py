#!/usr/bin/env python3
"""openapi_yaml.py: writes docs/api/openapi.yaml from docs/api/openapi.json, the source of truth.

The JSON is what the server embeds and serves at /openapi.json; the YAML is the same document for
people and tools that prefer it. Every string is written double-quoted with JSON's escapes (which
YAML's double-quoted scalars share), so no value can be misread as a number, a boolean or a date.
Python standard library only.

  scripts/openapi_yaml.py            rewrite docs/api/openapi.yaml
  scripts/openapi_yaml.py --check    exit 1 when docs/api/openapi.yaml is not what it would write
"""
import json
import os
import sys

from generated import write_or_check

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "docs", "api", "openapi.json")
OUT = os.path.join(ROOT, "docs", "api", "openapi.yaml")


def scalar(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return json.dumps(v)
    return json.dumps(v, ensure_ascii=False)


def emit(v, indent, lines):
    pad = "  " * indent
    if isinstance(v, dict):
        for k, x in v.items():
            key = json.dumps(k, ensure_ascii=False)
            if isinstance(x, dict) and x:
                lines.append("%s%s:" % (pad, key))
                emit(x, indent + 1, lines)
            elif isinstance(x, list) and x:
                lines.append("%s%s:" % (pad, key))
                emit(x, indent, lines)
            else:
                lines.append("%s%s: %s" % (pad, key, flow(x)))
    elif isinstance(v, list):
        for x in v:
            if isinstance(x, (dict, list)) and x:
                sub = []
                emit(x, indent + 1, sub)
                first = sub[0][len("  " * (indent + 1)):]
                lines.append("%s- %s" % (pad, first))
                lines.extend(sub[1:])
            else:
                lines.append("%s- %s" % (pad, flow(x)))


def flow(x):
    if isinstance(x, dict):
        return "{}"
    if isinstance(x, list):
        return "[]"
    return scalar(x)


def render():
    with open(SRC, encoding="utf-8") as f:
        doc = json.load(f)
    lines = ["# Generated from docs/api/openapi.json by scripts/openapi_yaml.py: do not edit."]
    emit(doc, 0, lines)
    return "\n".join(lines) + "\n"


def main():
    return write_or_check(OUT, render(), "docs/api/openapi.yaml", "scripts/openapi_yaml.py")


if __name__ == "__main__":
    sys.exit(main())
