"""Claims tables: reported, never raised."""
from faig_helpers.claims import Claims, fmt


def test_claims_report_and_never_raise():
    c = Claims("net")
    assert c.add("holds", True, "1.0") and not c.add("fails", False, "0.1", "why it failed")
    text = c.text()
    assert text.splitlines()[0].startswith("✓ net") and "✗ net  fails" in text and "→ why it failed" in text
    assert text.endswith("1 of 2 claims hold") and not c.all_hold
    assert list(c.table().holds) == ["✓", "✗"] and c.table().reading.tolist() == ["", "why it failed"]
    assert fmt(0.123456) == "0.123" and fmt(12345.6) == "12346"
