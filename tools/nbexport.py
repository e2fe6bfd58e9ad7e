"""Exports notebooks to offline HTML pages and reveal.js slides with nbconvert (Debian's 6.5).

Usage: python3 nbexport.py JOB.json
  JOB: {"templates": DIR, "assets": DIR, "items": [{"notebook": PATH, "html": PATH|null, "slides": PATH|null,
        "slides_url": URL|null}]}
Prints one JSON line per item: {"notebook", "ok", "html", "slides", "ms_html", "ms_slides", "figures",
"figures_in_slides", "title"} or {"notebook", "ok": false, "message"}. Never exits with a traceback.

Offline by construction (see nbtemplates/README.md): the templates load MathJax 3, reveal.js 4 and
plotly.js from JOB.assets through relative URLs; nothing comes from a CDN or from /usr/share/javascript.
plotly.js: the templates load one copy in the page head, on every page that has a figure; each figure's
output (lib/plot/show.ts) draws with it. Notebooks executed before that change carry a copy embedded in the
first figure's output: it is removed here.
"""
import copy
import json
import os
import re
import sys
import time

try:
    import nbformat
    from nbconvert import HTMLExporter, SlidesExporter
except ImportError as e:  # the caller checks for Jupyter first; keep the one-JSON-line contract anyway
    print(json.dumps({"notebook": None, "ok": False, "message": f"nbconvert is not installed for {sys.executable}: {e}"}))
    sys.exit(0)

PLOTLY_BUNDLE = re.compile(r'<script data-backprop-plotly="1">.*?</script>', re.S)
FIGURE = re.compile(r'class="backprop-figure"')


def slide_type(cell):
    return (cell.get("metadata", {}).get("slideshow") or {}).get("slide_type", "-")


def overwrite_lines(text):
    """What a terminal shows for text with carriage returns: each \r returns to the start of its line and
    the text after it overwrites what was there (the training progress bar redraws itself this way)."""
    lines = []
    for line in text.split("\n"):
        shown = ""
        for part in line.split("\r"):
            shown = part + shown[len(part):]
        lines.append(shown.rstrip() if "\r" in line else shown)
    return "\n".join(lines)


def coalesce_streams(outputs):
    """Consecutive stream outputs of the same name merged, carriage-return overwrites applied."""
    merged = []
    for out in outputs:
        if out.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream" and merged[-1].get("name") == out.get("name"):
            merged[-1]["text"] = merged[-1]["text"] + out["text"]
        else:
            if out.get("output_type") == "stream":
                out["text"] = "".join(out["text"]) if isinstance(out["text"], list) else out["text"]
            merged.append(out)
    for out in merged:
        if out.get("output_type") == "stream":
            out["text"] = overwrite_lines(out["text"])
    return merged


NOTEBOOK_LINK = re.compile(r"\]\((\.\./exercises/[\w.-]+|\d\d-[\w.-]+)\.ipynb\)")


def export_links(markdown):
    """Links between notebooks (lectures, exercises, the course README) as links between the exported pages:
    build/html/NN-x.html, build/exercises/hwNN-x.html and build/index.html sit as notebooks/, exercises/ and
    README.md do."""
    return NOTEBOOK_LINK.sub(r"](\1.html)", markdown).replace("](../README.md)", "](../index.html)")


def prepare(nb):
    """A copy without embedded plotly.js, streams as a terminal shows them (a progress bar ends as its last
    line), with a title, and the figure counts (page / slides)."""
    nb = copy.deepcopy(nb)
    figures, in_slides = 0, 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = export_links(cell.source)
        if cell.get("outputs"):
            cell["outputs"] = coalesce_streams(cell["outputs"])
        for out in cell.get("outputs", []):
            data = out.get("data") or {}
            html = data.get("text/html")
            if html is None:
                continue
            text = "".join(html) if isinstance(html, list) else html
            text = PLOTLY_BUNDLE.sub("", text)
            if "data-backprop-plotly" in text:
                raise ValueError("an output has a plotly.js bundle this exporter cannot strip (data-backprop-plotly)")
            data["text/html"] = text
            n = len(FIGURE.findall(text))
            figures += n
            if slide_type(cell) != "skip":
                in_slides += n
    title = None
    first = nb.cells[0] if nb.cells else None
    if first is not None and first.cell_type == "markdown":
        line = first.source.strip().split("\n")[0]
        if line.startswith("# "):
            title = line[2:].strip()
    if title:
        nb.metadata["title"] = title
    return nb, figures, in_slides, title


def exporters(templates):
    common = dict(extra_template_basedirs=[templates], extra_template_paths=[os.path.join(templates, "common")])
    html = HTMLExporter(template_name="backprop-html", **common)
    slides = SlidesExporter(template_name="backprop-slides", exclude_input_prompt=True, exclude_output_prompt=True,
                            reveal_theme="white", reveal_transition="slide", **common)
    return html, slides


def write(target, body):
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target + ".tmp", "w", encoding="utf-8") as f:
        f.write(body)
    os.replace(target + ".tmp", target)


def export_one(item, assets, html_exporter, slides_exporter):
    nb, figures, in_slides, title = prepare(nbformat.read(item["notebook"], as_version=4))
    result = {"notebook": item["notebook"], "ok": True, "figures": figures, "figures_in_slides": in_slides, "title": title}
    for kind, exporter in (("html", html_exporter), ("slides", slides_exporter)):
        target = item.get(kind)
        if not target:
            continue
        t0 = time.time()
        name = os.path.splitext(os.path.basename(item["notebook"]))[0]
        resources = {
            "metadata": {"name": name, "path": os.path.dirname(item["notebook"])},
            "backprop": {
                "assets": os.path.relpath(assets, os.path.dirname(target)).replace(os.sep, "/"),
                "figures": figures if kind == "html" else in_slides,
                "slides_url": item.get("slides_url"),
            },
        }
        if kind == "slides":
            exporter.reveal_url_prefix = resources["backprop"]["assets"] + "/reveal.js"
        body, _ = exporter.from_notebook_node(nb, resources=resources)
        write(target, body)
        result[kind] = target
        result["ms_" + kind] = round((time.time() - t0) * 1000)
    return result


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        job = json.load(f)
    html_exporter, slides_exporter = exporters(job["templates"])
    for item in job["items"]:
        try:
            result = export_one(item, job["assets"], html_exporter, slides_exporter)
        except Exception as e:  # report and go on with the next notebook
            result = {"notebook": item["notebook"], "ok": False, "message": f"{type(e).__name__}: {e}"}
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
