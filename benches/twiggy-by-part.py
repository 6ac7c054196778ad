#!/usr/bin/env python3
"""Where a wasm bundle's bytes go: twiggy's shallow sizes summed by part (rivet-core, serde_json,
core::fmt, the framework, ...), one column per file, as a Markdown table (BENCHMARKS.md,
"Where the bytes go").

    cargo install --locked twiggy
    bash scripts/bench.sh            # keeps target/bench/bundle/<crate>/<lib>_bg.pre-opt.wasm
    python3 benches/twiggy-by-part.py target/bench/bundle/leptos-counter/leptos_counter_bg.pre-opt.wasm

Give it the wasm-bindgen output *before* wasm-opt: wasm-opt drops the name section, and without
names every function is anonymous. Parts are matched on the demangled names, first match wins.
"""
import collections
import csv
import io
import re
import subprocess
import sys

PARTS = [
    ("name section (not shipped: wasm-opt drops it)", r'^"function names"|subsection'),
    ("rodata (strings, tables)", r"^data segment"),
    ("core::fmt (Display/Debug impls, fmt machinery, panics)",
     r"core(\[\w+\])?::fmt|as core::fmt::|alloc(\[\w+\])?::fmt|panicking"),
    ("serde_json", r"^<?&?(mut )?serde_json|drop_in_place<serde_json"),
    ("ciborium", r"ciborium"),
    ("base64", r"base64"),
    ("tracing", r"tracing"),
    ("rivet-core", r"rivet_core"),
    ("rivet-leptos / rivet-dioxus", r"rivet_leptos|rivet_dioxus"),
    ("the example's own code", r"leptos_counter|dioxus_counter|leptos_chat|dioxus_chat"),
    ("Leptos (reactive_graph, tachys, leptos*)",
     r"reactive_graph|tachys|leptos|any_spawner|or_poisoned|send_wrapper"),
    ("Dioxus (dioxus_*, generational_box, ...)",
     r"dioxus|generational_box|warnings::|longest_increasing"),
    ("dlmalloc", r"dlmalloc"),
    ("wasm-bindgen, js-sys, web-sys, futures", r"wasm_bindgen|js_sys|web_sys|futures|gloo"),
    ("alloc/core/std generics (Vec, BTreeMap, Arc, sort, str, ...)",
     r"^<?&?(mut )?(alloc|core|std|hashbrown|indexmap|T |T>|\[T\]|str|char|u\d|i\d|usize)"),
]
OTHER = "other (wasm structure, types, tables)"


def parts(path):
    out = subprocess.run(
        ["twiggy", "top", "-n", "1000000", "--format", "csv", path],
        capture_output=True, text=True, check=True,
    ).stdout
    sizes = collections.Counter()
    for row in csv.DictReader(io.StringIO(out)):
        name = row["Name"]
        if name.startswith(("Σ", "...")):
            continue
        for part, pattern in PARTS:
            if re.search(pattern, name):
                sizes[part] += int(row["ShallowSize"])
                break
        else:
            sizes[OTHER] += int(row["ShallowSize"])
    return sizes


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    columns = [parts(path) for path in sys.argv[1:]]
    print("| part | " + " | ".join(sys.argv[1:]) + " |")
    print("|---|" + "---|" * len(columns))
    for part in [p for p, _ in PARTS] + [OTHER]:
        print(f"| {part} | " + " | ".join(f"{c[part]:,}" for c in columns) + " |")
    print("| total | " + " | ".join(f"{sum(c.values()):,}" for c in columns) + " |")


if __name__ == "__main__":
    main()
