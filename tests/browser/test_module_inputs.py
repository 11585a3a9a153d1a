"""Input images: picker, paste and drop send raw buffers (chunked when big); thumbnails and buttons."""

from __future__ import annotations

import base64

import pytest
from widget_harness import DALLE_3_CAPS, DEFAULT_OPTIONS, Harness, checksum

from support.images import jpeg, png

pytestmark = pytest.mark.browser

MIB = 1024 * 1024


def inputs(n: int) -> list[dict[str, object]]:
    colours = [(220, 80, 80), (80, 200, 80), (80, 80, 220)]
    return [
        {
            "id": f"in{i}",
            "name": f"photo-{i}.png",
            "width": 1024,
            "height": 768,
            "thumb": jpeg((120, 90), colours[i % 3]),
        }
        for i in range(n)
    ]


def test_file_picker_sends_one_buffer_per_file(harness: Harness) -> None:
    harness.mount()
    a, b = png((40, 30)), png((50, 20))
    harness.page.set_input_files(
        ".iw-file",
        [
            {"name": "a.png", "mimeType": "image/png", "buffer": a},
            {"name": "b.png", "mimeType": "image/png", "buffer": b},
        ],
    )
    msg = harness.wait_sent("add_inputs", 1)[0]
    # issue 14 item 7: each upload message carries an id the kernel answers with its progress
    upload_id = msg["content"].pop("upload_id")
    assert isinstance(upload_id, str)
    assert upload_id
    assert msg["content"] == {"type": "add_inputs", "names": ["a.png", "b.png"]}
    assert msg["buffers"] == [a, b]


def test_big_file_goes_in_chunks_under_8_mib(harness: Harness) -> None:
    harness.mount()
    size = 9 * MIB + 12_345
    big = (bytes(range(256)) * (size // 256 + 1))[:size]  # byte i is i & 255, as built in the page
    small = png((10, 10))
    # Build the files in the page (set_input_files with 9 MiB is slow) and hand them to the picker.
    harness.page.evaluate(
        """([size, smallB64]) => {
            const big = new Uint8Array(size);
            for (let i = 0; i < size; i++) big[i] = i & 255;
            const small = Uint8Array.from(atob(smallB64), c => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([small], 'small.png', {type: 'image/png'}));
            dt.items.add(new File([big], 'huge.png', {type: 'image/png'}));
            const input = document.querySelector('.iw-file');
            input.files = dt.files;
            input.dispatchEvent(new Event('change', {bubbles: true}));
        }""",
        [size, base64.b64encode(small).decode()],
    )
    harness.wait_sent("add_inputs", 1)
    harness.page.wait_for_function("() => window.__h.sentCount('add_input_chunk') >= 3")
    assert harness.sent("add_inputs")[0]["buffers"] == [small]
    chunks = harness.sent_meta("add_input_chunk")
    contents = [c["content"] for c in chunks]
    total = contents[0]["total"]
    assert len(chunks) == total
    assert [c["index"] for c in contents] == list(range(total))
    assert {c["upload_id"] for c in contents} == {contents[0]["upload_id"]}
    assert {c["name"] for c in contents} == {"huge.png"}
    assert all(len(c["sizes"]) == 1 and c["sizes"][0] < 8 * MIB for c in chunks)
    offsets = [0]
    for c in chunks:
        offsets.append(offsets[-1] + c["sizes"][0])
    assert offsets[-1] == len(big)
    for c, start, end in zip(chunks, offsets, offsets[1:], strict=False):
        assert c["sums"][0] == checksum(big[start:end])


def test_paste_image_when_focus_inside(harness: Harness) -> None:
    harness.mount()
    paste = """async (focusInside) => {
        if (focusInside) document.querySelector('.iw-prompt').focus(); else document.activeElement.blur();
        const bytes = Uint8Array.from(atob(%r), c => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], 'clip.png', {type: 'image/png'}));
        const target = focusInside ? document.activeElement : document.querySelector('.image-widget');
        const e = new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true});
        target.dispatchEvent(e);
        return e.defaultPrevented;
    }"""
    data = png((8, 8))
    script = paste % base64.b64encode(data).decode()
    assert harness.page.evaluate(script, False) is False
    assert harness.sent("add_inputs") == []
    assert harness.page.evaluate(script, True) is True
    msg = harness.wait_sent("add_inputs", 1)[0]
    assert msg["content"]["names"] == ["clip.png"]
    assert msg["buffers"] == [data]


def test_drop_files_on_widget(harness: Harness) -> None:
    harness.mount()
    data = png((8, 8))
    harness.page.evaluate(
        """(b64) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], 'dropped.png', {type: 'image/png'}));
            const root = document.querySelector('.iw-results') || document.querySelector('.image-widget');
            for (const type of ['dragenter', 'dragover', 'drop'])
                root.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true}));
        }""",
        base64.b64encode(data).decode(),
    )
    msg = harness.wait_sent("add_inputs", 1)[0]
    assert msg["content"]["names"] == ["dropped.png"]
    assert msg["buffers"] == [data]
    assert "iw-dragging" not in (harness.page.get_attribute(".image-widget", "class") or "")


def test_thumbnails_remove_and_reorder_from_keyboard(harness: Harness) -> None:
    harness.mount(options={**DEFAULT_OPTIONS, "mode": "edit"}, inputs=inputs(3))
    page = harness.page
    thumbs = page.locator(".iw-thumb")
    assert thumbs.count() == 3
    assert page.text_content('[data-role="input-count"]') == "3 / 16"
    assert "mask applies here" in (thumbs.nth(0).text_content() or "")
    assert "mask applies here" not in (thumbs.nth(1).text_content() or "")
    page.wait_for_function("() => [...document.querySelectorAll('.iw-thumb img')].every(i => i.naturalWidth === 120)")
    assert page.is_disabled('.iw-thumb[data-input-id="in0"] [data-action="move-left"]')
    assert page.is_disabled('.iw-thumb[data-input-id="in2"] [data-action="move-right"]')

    page.focus('.iw-thumb[data-input-id="in1"] [data-action="move-left"]')
    page.keyboard.press("Enter")
    assert harness.wait_sent("move_input", 1)[-1]["content"] == {"type": "move_input", "id": "in1", "to": 0}
    page.focus('.iw-thumb[data-input-id="in1"] [data-action="move-right"]')
    page.keyboard.press("Space")
    assert harness.wait_sent("move_input", 2)[-1]["content"] == {"type": "move_input", "id": "in1", "to": 2}
    page.click('.iw-thumb[data-input-id="in2"] [data-action="remove"]')
    assert harness.wait_sent("remove_input", 1)[-1]["content"] == {"type": "remove_input", "id": "in2"}

    # the kernel answers with new inputs: old thumbnail URLs are revoked, focus stays in the list
    created_before = page.evaluate("() => window.__instr.counts.created")
    live_before = page.evaluate("() => window.__instr.liveUrls.size")
    harness.set_trait("inputs", inputs(2))
    assert page.locator(".iw-thumb").count() == 2
    assert page.evaluate("() => window.__instr.counts.created") == created_before + 2
    assert page.evaluate("() => window.__instr.liveUrls.size") == live_before - 1
    assert page.evaluate("() => !!document.activeElement.closest('.iw-inputs')")


def test_limit_shown_and_image_problem(harness: Harness) -> None:
    harness.mount(
        inputs=inputs(2),
        capabilities=DALLE_3_CAPS,
        problems={"image": "2 input images given; model dall-e-3 takes at most 1"},
    )
    page = harness.page
    assert page.text_content('[data-role="input-count"]') == "2 / 1"
    assert page.is_disabled('[data-action="add-inputs"]')
    assert "at most 1" in (page.text_content('.iw-inputs [data-problem-for="image"]') or "")


def test_a_prompt_still_being_typed_is_written_before_the_files(harness: Harness) -> None:
    """The kernel switches to Edit when the first image arrives; the prompt's debounced `options` write (made
    from the page's Generate-mode options) must reach it first, or it would switch the kernel back."""
    harness.mount()
    harness.page.locator("textarea[data-option='prompt']").fill("a pond")  # no blur: the write is held back
    harness.page.set_input_files(".iw-file", [{"name": "a.png", "mimeType": "image/png", "buffer": png((40, 30))}])
    harness.wait_sent("add_inputs", 1)
    writes = harness.writes()
    assert "set options" in writes
    assert writes.index("set options") < writes.index("send add_inputs"), writes
    assert harness.sets("options")[-1]["prompt"] == "a pond"


def test_add_by_url_or_file_id_sends_the_reference_and_shows_the_answer(harness: Harness) -> None:
    harness.mount()
    page = harness.page
    field = page.locator(".iw-ref-input")
    add = page.locator("[data-action='add-ref']")
    field.fill("not a url")
    assert add.is_disabled(), "only an https URL or a file id can be added"
    assert field.get_attribute("aria-invalid") == "true"
    field.fill("  file-abc123XYZ  ")
    assert add.is_enabled()
    field.press("Enter")
    (message,) = harness.wait_sent("add_refs")
    sent = message["content"]
    assert sent["refs"] == ["file-abc123XYZ"]
    assert field.input_value() == "", "cleared for the next one"
    harness.fire({"type": "upload_progress", "upload_id": sent["upload_id"], "received": 0, "done": True,
                  "added": [], "problems": ["file-abc123XYZ: no file 'file-abc123XYZ' at this server"]})
    page.wait_for_selector(".iw-upload-problems li")
    assert "no file 'file-abc123XYZ'" in page.locator(".iw-upload-problems").inner_text()
