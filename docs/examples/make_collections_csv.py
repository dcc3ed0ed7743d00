#!/usr/bin/env python3
"""Writes collections.csv: the 200 collection pages of the leather-goods shop in
docs/examples/collections-shop.md (seed 002), one lead magnet each, in the CSV that
POST /v1/resources/import takes (header slug,title,kind,url,collection,description,gated).

Deterministic: 20 styles x 10 product types, no randomness, so the committed file and a fresh run
are byte for byte the same (`python3 make_collections_csv.py > collections.csv`).
"""
import csv
import sys

SHOP = "https://leatherandco.example"

STYLES = ["Vintage Leather", "Minimalist", "Waxed Canvas", "Full-Grain", "Travel", "Everyday Carry",
          "Heritage", "Vegan Leather", "Handmade", "Weekend", "Executive", "Outdoor", "Classic Tan",
          "Black Label", "Distressed", "Slim", "Artisan", "Urban Commuter", "Gift Edition",
          "Repair & Care"]

# product type -> (collection noun, lead magnet title, what it covers)
TYPES = [
    ("Bags", "The {s} Bag Care & Restoration Guide",
     "Cleaning, conditioning and storing {l} bags, and bringing a tired one back to life."),
    ("Wallets", "The {s} Wallet Buying Guide",
     "How to choose a {l} wallet that lasts: stitching, edges, card slots and how they age."),
    ("Belts", "Sizing, Fitting and Caring for {s} Belts",
     "Finding the right size, breaking a belt in, and keeping the buckle and edges sharp."),
    ("Phone Cases", "Protecting Your Phone in {s} Style",
     "What a {l} case protects, how it wears in, and when to replace it."),
    ("Desk Accessories", "The {s} Workspace Setup Guide",
     "A calmer desk: organisation ideas, cable care and {l} pieces that earn their place."),
    ("Watch Straps", "The {s} Watch Strap Handbook",
     "Lug widths, quick-release pins, and keeping a {l} strap supple through the seasons."),
    ("Notebooks", "Journaling with {s} Covers",
     "Refills, cover care and habits that keep a {l} notebook in use for years."),
    ("Key Holders", "The Everyday Key Guide: {s} Edition",
     "Fewer scratches, less noise: carrying keys well with {l} holders."),
    ("Backpacks", "Packing Light with {s} Backpacks",
     "Packing lists, weatherproofing and strap adjustments for {l} backpacks."),
    ("Totes", "The {s} Tote Guide",
     "Everyday tote care, stain first aid and what to do about sagging handles."),
]


def slug(text):
    out = "".join(c.lower() if c.isalnum() else "-" for c in text)
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")


def rows():
    for style in STYLES:
        for noun, title, about in TYPES:
            collection = "%s %s" % (style, noun)
            handle = slug(collection)
            # Phone cases are short reads shared openly; every other guide is a lead magnet
            # that asks for an e-mail first.
            gated = noun != "Phone Cases"
            yield {
                "slug": handle,
                "title": title.format(s=style),
                "kind": "lead_magnet" if gated else "guide",
                "url": "%s/pages/guides/%s" % (SHOP, handle),
                "collection": collection,
                "description": about.format(l=style.lower()),
                "gated": "true" if gated else "false",
            }


def main():
    w = csv.DictWriter(sys.stdout, ["slug", "title", "kind", "url", "collection", "description",
                                    "gated"], lineterminator="\r\n")
    w.writeheader()
    for r in rows():
        w.writerow(r)


if __name__ == "__main__":
    main()
