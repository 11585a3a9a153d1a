"""The record is a typed structure: every saved record's keys are ImageRecord's, and CONTRACTS.md lists them."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image

import image_widget as iw
from image_widget.base.records import RECORD_KEYS, record_call
from image_widget.emulator import Emulator

ROOT = Path(__file__).resolve().parents[1]


def test_saved_records_have_exactly_the_typed_keys(emulator: Emulator, tmp_path: Path) -> None:
    opts = {"base_url": emulator.url, "api_key": "sk-test-records", "store": tmp_path}
    made = iw.generate("a cat", quality="low", **opts)
    edited = iw.edit(made.images[0], "a hat", mask=Image.new("L", made.images[0].size, 255), **opts)
    for record in (made.record, edited.record):
        assert set(record) == set(RECORD_KEYS)
    assert record_call(edited.record) == "edit"


def test_contracts_lists_the_typed_keys() -> None:
    text = (ROOT / "docs" / "CONTRACTS.md").read_text(encoding="utf-8")
    listed = re.search(r"Record keys \(one per image;.*?\): `([^`]*)`", text, flags=re.DOTALL)
    assert listed is not None
    keys = [key.strip() for key in listed.group(1).replace("\n", " ").split(",")]
    assert keys == list(RECORD_KEYS)


def test_records_written_before_call_existed_are_read_by_endpoint_and_note() -> None:
    assert record_call({"endpoint": "variation"}) == "vary"
    assert record_call({"endpoint": "edit", "note": "variation made through the edit endpoint: …"}) == "vary"
    assert record_call({"endpoint": "edit"}) == "edit"
    assert record_call({}) == "generate"
