"""docs/mails.md shows every mail the service can send, rendered from one scripted
conversation by `python -m scripts.mail_gallery`; it must be regenerated with the copy."""

from __future__ import annotations

from scripts import mail_gallery
from tests.conftest import ROOT


def test_the_mail_gallery_is_current_and_shows_every_kind() -> None:
    page = mail_gallery.build()
    kinds = sorted(p.name.removesuffix(".txt.j2")
                   for p in (ROOT / "templates" / "email").glob("*.txt.j2")
                   if not p.name.startswith("_"))
    missing = [k for k in kinds if f"`{k}` an " not in page]
    assert not missing, f"mail kinds the gallery never shows: {missing}"
    assert "{{" not in page and "None" not in page
    committed = (ROOT / "docs" / "mails.md").read_text(encoding="utf-8")
    assert committed == page, "docs/mails.md is stale: run python -m scripts.mail_gallery"
