"""lectures/README.md maps every seed item (L1–L26, T3.1–T3.3) to a notebook section that exists.

Map lines look like ``- L4 → 07_1_lrp.ipynb § "Conservation, globally and locally"``; the notebook must
hold a markdown heading ``## Conservation, globally and locally [L4, L6]`` whose bracket lists the id.
"""

import re
from pathlib import Path

import nbformat
import pytest

LECTURES = Path(__file__).resolve().parent.parent / "lectures"
README = LECTURES / "README.md"
SEED_IDS = [f"L{i}" for i in range(1, 27)] + ["T3.1", "T3.2", "T3.3"]

MAP_LINE = re.compile(r'^- (?P<id>[LT][0-9.]+) → (?P<notebook>[\w.-]+\.ipynb) § "(?P<section>[^"]+)"\s*$')
HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*\[(?P<ids>[^\]]+)\]\s*$")


def parse_map(text: str):
    """(id, notebook, section) for every map line of the README."""
    return [(m["id"], m["notebook"], m["section"].strip()) for m in map(MAP_LINE.match, text.splitlines()) if m]


def tagged_headings(path: Path):
    """{title: set of ids} for every markdown heading of the notebook that ends in an id bracket."""
    found = {}
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "markdown":
            continue
        in_fence = False
        for line in cell.source.splitlines():
            if line.lstrip().startswith("```"):
                in_fence = not in_fence
            m = None if in_fence else HEADING.match(line.strip())
            if m:
                title = " ".join(m["title"].split())
                found.setdefault(title, set()).update(i.strip() for i in m["ids"].split(","))
    return found


ENTRIES = parse_map(README.read_text(encoding="utf-8"))


def test_parser_reads_the_documented_format():
    entries = parse_map('intro\n- L4 → 07_1_lrp.ipynb § "Conservation, globally and locally"\n- nonsense')
    assert entries == [("L4", "07_1_lrp.ipynb", "Conservation, globally and locally")]
    assert HEADING.match("## Conservation, globally and locally [L4, L6]")["ids"] == "L4, L6"
    assert HEADING.match("## A plain heading") is None


@pytest.mark.parametrize("item", SEED_IDS)
def test_every_seed_item_is_mapped(item):
    assert any(entry[0] == item for entry in ENTRIES), f"{item} has no line in {README}"


def test_map_names_only_seed_items():
    unknown = sorted({entry[0] for entry in ENTRIES} - set(SEED_IDS))
    assert not unknown, f"unknown item ids in the map: {unknown}"


@pytest.mark.parametrize("item, notebook, section", ENTRIES, ids=[f"{e[0]}@{e[1]}#{k}" for k, e in enumerate(ENTRIES)])
def test_mapped_section_exists_with_its_id(item, notebook, section):
    path = LECTURES / notebook
    assert path.is_file(), f"{item} is mapped to {notebook}, which does not exist in {LECTURES}"
    headings = tagged_headings(path)
    assert section in headings, (
        f'{notebook} has no heading "{section} [..., {item}, ...]"; its tagged headings are {sorted(headings)}'
    )
    assert item in headings[section], f'heading "{section}" in {notebook} lists {sorted(headings[section])}, not {item}'


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in sorted(LECTURES.glob("*.ipynb"))])
def test_every_tagged_heading_is_in_the_map(path):
    mapped = {(item, section) for item, notebook, section in ENTRIES if notebook == path.name}
    missing = [
        f'- {item} → {path.name} § "{title}"'
        for title, ids in tagged_headings(path).items()
        for item in sorted(ids)
        if (item, title) not in mapped
    ]
    assert not missing, "add these lines to lectures/README.md (or fix the heading):\n" + "\n".join(missing)
