"""Every document the code cites ships with the repository: `docs/<file>.md`, its `§N` section, its named section."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
PACKAGES = ("hiper_gym", "hiper_agents", "training", "integrations", "examples", "benchmarks", "tests", "scripts")
CITE = re.compile(r"(docs/[\w./-]+\.md)(?:[,:]? ?(§ ?\d+|\"[^\"]+\"|[A-Z][\w ]+))?")


def _sources() -> list[Path]:
    return [p for package in PACKAGES for p in (ROOT / package).rglob("*") if p.suffix in (".py", ".sh", ".yaml")]


def _citations() -> list[tuple[Path, str, str | None]]:
    found = []
    for path in _sources():
        for match in CITE.finditer(path.read_text(errors="replace")):
            found.append((path, match.group(1), match.group(2)))
    return found


def test_every_cited_document_and_section_exists():
    citations = _citations()
    assert len(citations) > 30  # the code does cite its docs: the pattern still matches them
    missing = []
    for path, doc, section in citations:
        target = ROOT / doc
        if not target.is_file():
            missing.append(f"{path.relative_to(ROOT)}: {doc}")
            continue
        headings = [line.lstrip("#").strip() for line in target.read_text().splitlines() if line.startswith("#")]
        if section and section.startswith("§"):
            number = section.lstrip("§ ")
            if not any(h.startswith(f"{number}.") for h in headings):
                missing.append(f"{path.relative_to(ROOT)}: {doc} {section}")
    assert not missing, "citations that resolve to nothing:\n" + "\n".join(missing)


def test_the_code_cites_no_document_outside_the_repository():
    outside = re.compile(r"\b(DESIGN|BACKENDS|WEBSHOP)(\.md| ?§)")
    hits = [f"{p.relative_to(ROOT)}:{i + 1}" for p in _sources() if p.name != "test_doc_references.py"
            for i, line in enumerate(p.read_text(errors="replace").splitlines()) if outside.search(line)]
    assert not hits, hits
