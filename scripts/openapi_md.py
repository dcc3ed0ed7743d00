#!/usr/bin/env python3
"""openapi_md.py: writes docs/api/reference.md, the readable API reference, from
docs/api/openapi.json (the source of truth). Python standard library only.

  scripts/openapi_md.py            rewrite docs/api/reference.md
  scripts/openapi_md.py --check    exit 1 when docs/api/reference.md is not what it would write
"""
import json
import os
import sys

from generated import write_or_check

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "docs", "api", "openapi.json")
OUT = os.path.join(ROOT, "docs", "api", "reference.md")
METHODS = ("get", "post", "patch", "put", "delete", "options", "head")


def ref_name(s):
    return s["$ref"].rsplit("/", 1)[1]


def anchor(text):
    out = []
    for ch in text.lower():
        if ch.isalnum() or ch in "-_":
            out.append(ch)
        elif ch == " ":
            out.append("-")
    return "".join(out)


def type_of(s):
    """A short human form of a schema: `string`, `integer 1..500`, [Participant](#participant)..."""
    if s is None:
        return ""
    if "$ref" in s:
        n = ref_name(s)
        return "[%s](#%s)" % (n, anchor("schema-" + n))
    if "anyOf" in s:
        return " or ".join(type_of(x) for x in s["anyOf"])
    t = s.get("type", "any")
    types = t if isinstance(t, list) else [t]
    parts = []
    for t in types:
        if t == "array":
            parts.append("array of " + type_of(s.get("items", {})))
        elif t == "object" and "additionalProperties" in s and isinstance(s["additionalProperties"], dict):
            parts.append("map of " + type_of(s["additionalProperties"]))
        else:
            parts.append(t)
    text = " or ".join(parts)
    extra = []
    if "enum" in s:
        extra.append("one of " + ", ".join("`%s`" % json.dumps(v) for v in s["enum"]))
    if "minimum" in s or "maximum" in s:
        extra.append("%s..%s" % (s.get("minimum", ""), s.get("maximum", "")))
    if "minLength" in s or "maxLength" in s:
        extra.append("length %s..%s" % (s.get("minLength", 0), s.get("maxLength", "")))
    if "maxItems" in s:
        extra.append("at most %d items" % s["maxItems"])
    if "pattern" in s:
        extra.append("`%s`" % s["pattern"])
    if "format" in s:
        extra.append(s["format"])
    if "default" in s:
        extra.append("default `%s`" % json.dumps(s["default"]))
    if extra:
        text += " (" + "; ".join(extra) + ")"
    return text


def cell(text):
    return (text or "").replace("|", "\\|").replace("\n", " ")


def resolve(doc, p):
    if "$ref" in p:
        parts = p["$ref"].lstrip("#/").split("/")
        node = doc
        for part in parts:
            node = node[part]
        return node
    return p


def fence(example, lang="json"):
    if isinstance(example, str) and lang != "json":
        body = example.replace("\r\n", "\n").rstrip("\n")
    else:
        body = json.dumps(example, indent=2, ensure_ascii=False)
    return ["```" + lang, body, "```"]


def render():
    with open(SRC, encoding="utf-8") as f:
        doc = json.load(f)
    info = doc["info"]
    L = ["<!-- Generated from docs/api/openapi.json by scripts/openapi_md.py: do not edit. -->", "",
         "# %s API reference (v%s)" % (info["title"], info["version"]), "", info["description"], "",
         "The machine-readable document: [openapi.json](openapi.json) (also served at "
         "`GET /openapi.json`) and [openapi.yaml](openapi.yaml).", ""]
    # authentication
    L += ["## Authentication", "", "| scheme | how |", "|---|---|"]
    for name, s in doc["components"]["securitySchemes"].items():
        L.append("| `%s` | %s |" % (name, cell(s.get("description", ""))))
    L += ["", "Operations say which schemes they accept; *public* means none.", ""]
    # errors
    err = doc["components"]["schemas"]["Error"]
    codes = err["properties"]["error"]["properties"]["code"]["enum"]
    L += ["## Errors", "", "Every error is `{\"error\": {\"code\", \"message\", \"param\"}}`. Codes: " +
          ", ".join("`%s`" % c for c in codes) + ".", "", "| response | meaning |", "|---|---|"]
    for name, r in doc["components"]["responses"].items():
        L.append("| %s | %s |" % (name, cell(r["description"])))
    L.append("")
    # index
    ops = []
    for path, item in doc["paths"].items():
        for m in METHODS:
            if m in item:
                ops.append((item[m]["tags"][0], path, m, item[m]))
    tags = [t["name"] for t in doc.get("tags", [])]
    L += ["## Operations (%d)" % len(ops), ""]
    for tag in tags:
        these = [o for o in ops if o[0] == tag]
        if not these:
            continue
        L += ["### %s" % tag, ""]
        L += ["| method | path | summary |", "|---|---|---|"]
        for _, path, m, o in these:
            L.append("| %s | [`%s`](#%s) | %s |" % (m.upper(), path, anchor("op-" + o["operationId"]),
                                                   cell(o["summary"])))
        L.append("")
    L += ["## Operation details", ""]
    for tag in tags:
        for _, path, m, o in [x for x in ops if x[0] == tag]:
            L += ['<a id="%s"></a>' % anchor("op-" + o["operationId"]), "",
                  "### %s %s" % (m.upper(), path), "", "**%s** (`%s`)" % (o["summary"], o["operationId"]), ""]
            if o.get("description"):
                L += [o["description"], ""]
            sec = o.get("security", doc.get("security", []))
            L += ["Auth: " + (", ".join("`%s`" % list(s)[0] for s in sec) if sec else "public"), ""]
            params = [resolve(doc, p) for p in o.get("parameters", [])]
            if params:
                L += ["| parameter | in | type | required | description |", "|---|---|---|---|---|"]
                for p in params:
                    L.append("| `%s` | %s | %s | %s | %s |" % (
                        p["name"], p["in"], cell(type_of(p.get("schema"))),
                        "yes" if p.get("required") else "no", cell(p.get("description", ""))))
                L.append("")
            rb = o.get("requestBody")
            if rb:
                for ctype, c in rb["content"].items():
                    L += ["Request body (`%s`%s): %s" % (ctype, "" if rb.get("required") else ", optional",
                                                         type_of(c.get("schema"))), ""]
                    if "example" in c:
                        L += fence(c["example"], "json" if "json" in ctype else "text") + [""]
            L += ["| status | answer |", "|---|---|"]
            for status, r in o["responses"].items():
                r = resolve(doc, r)
                ctypes = r.get("content", {})
                what = "; ".join("`%s` %s" % (ct, type_of(c.get("schema"))) for ct, c in ctypes.items())
                L.append("| %s | %s |" % (status, cell(r["description"] + (": " + what if what else ""))))
            L.append("")
            # One answer's example: a creation's 201 before a replay's 200.
            own = [(st, r) for st, r in o["responses"].items() if "$ref" not in r]
            own.sort(key=lambda x: (x[0] != "201", x[0]))
            for status, r in own[:1]:
                for ct, c in r.get("content", {}).items():
                    if "example" in c:
                        lang = "json" if ct == "application/json" else "text"
                        L += ["Example %s (`%s`):" % (status, ct), ""] + fence(c["example"], lang) + [""]
                        break
    # schemas
    L += ["## Schemas", ""]
    for name, s in doc["components"]["schemas"].items():
        L += ['<a id="%s"></a>' % anchor("schema-" + name), "", "### %s" % name, ""]
        if s.get("description"):
            L += [s["description"], ""]
        props = s.get("properties")
        if props:
            req = set(s.get("required", []))
            L += ["| field | type | required |", "|---|---|---|"]
            for k, v in props.items():
                desc = v.get("description", "") if isinstance(v, dict) else ""
                L.append("| `%s` | %s%s | %s |" % (k, cell(type_of(v)), (" " + cell(desc)) if desc else "",
                                                   "yes" if k in req else "no"))
            if s.get("additionalProperties") is False:
                L += ["", "No other fields."]
            L.append("")
        else:
            L += ["Type: " + type_of(s), ""]
    return "\n".join(L).rstrip("\n") + "\n"


def main():
    return write_or_check(OUT, render(), "docs/api/reference.md", "scripts/openapi_md.py")


if __name__ == "__main__":
    sys.exit(main())
