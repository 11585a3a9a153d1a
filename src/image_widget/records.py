"""What a saved record says about the call that made it.

Records are JSON (the sidecar and the PNG chunk). Since 0.2 each says which public call made it
(`call`: generate / edit / vary): a variation may go through the edit endpoint, and guessing that from
the note's wording lost the prompt of `iw.vary(img, "make it blue")` when it was reproduced.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

Call = Literal["generate", "edit", "vary"]
CALLS: tuple[Call, ...] = get_args(Call)
VARIATION_PROMPT = (
    "Create a variation of this image: keep the subject, composition and style, "
    "and let details, lighting and small elements differ naturally."
)
"""What `vary()` asks for when no prompt is given (GPT image models make variations through edit)."""
_OLD_VARIATION_NOTE = "variation made through"
"""How records written before `call` existed marked a variation made through the edit endpoint."""


def record_call(record: Mapping[str, Any]) -> Call:
    """The call that made `record`; older records without `call` are read by their endpoint and note."""
    call = record.get("call")
    if call in CALLS:
        return call  # type: ignore[no-any-return]
    endpoint = record.get("endpoint", "generate")
    if endpoint == "variation" or str(record.get("note") or "").startswith(_OLD_VARIATION_NOTE):
        return "vary"
    return "edit" if endpoint == "edit" else "generate"
