"""Write the generated tables of docs/architecture.md (the stage table and the folder contract)
from the code: pipeline/graph.py and workspace.FOLDER. tests/test_architecture.py fails until the
document matches them. Usage: python scripts/architecture_doc.py"""

from __future__ import annotations

from pathlib import Path

from chaitime.pipeline.graph import docs_with_tables

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"

if __name__ == "__main__":
    DOC.write_text(docs_with_tables(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"{DOC}: tables written from the code")
