"""The widget as people use it (issue 14): honest values, plain words, uploads that show progress, and a
widget that says when it lost its kernel. Module tests in Chromium with the fake model."""

from __future__ import annotations

import pytest
from widget_harness import DALLE_3_CAPS, DEFAULT_OPTIONS, Harness, fake_results

pytestmark = pytest.mark.browser


def control(name: str) -> str:
    return f'.iw-compose [data-option="{name}"]'


# ------------------------------------------------------------------------------- item 6: copy code


def test_copy_code_copies_the_runnable_snippet(harness: Harness) -> None:
    snippet = "import image_widget as iw\n\n# the key comes from OPENAI_API_KEY\niw.generate('prompt 0', base_url='http://h/v1')"
    results = fake_results(1)
    results[0]["snippet"] = snippet
    harness.mount(results=results)
    page = harness.page
    page.click('.iw-result[data-result-id="img-0"] [data-action="copy-code"]')
    box = page.locator('.iw-result[data-result-id="img-0"] textarea.iw-code')
    box.wait_for()
    assert box.input_value() == snippet


# ------------------------------------------------------------------------------- item 3: Images (n)


def _type_n(harness: Harness, text: str) -> None:
    harness.page.fill(control("n"), text)
    harness.page.press(control("n"), "Tab")


def _note(harness: Harness) -> str:
    note = harness.page.locator('[data-note-for="n"]')
    return (note.text_content() or "") if note.is_visible() else ""


@pytest.mark.parametrize(
    ("typed", "runs", "why"),
    [
        ("2.5", 2, "2.5 is not a whole number — 2 images will run"),
        ("-3", 1, "-3 is less than 1 — 1 image will run"),
        ("0", 1, "0 is less than 1 — 1 image will run"),
        ("11", 10, "gpt-image-2 makes at most 10 images per request — 10 images will run"),
        ("0.5", 1, "0.5 is not a whole number — 1 image will run"),
    ],
)
def test_n_box_shows_what_runs_and_why(harness: Harness, typed: str, runs: int, why: str) -> None:
    harness.mount(options={**DEFAULT_OPTIONS, "n": 4})
    _type_n(harness, typed)
    assert harness.page.input_value(control("n")) == str(runs)
    assert harness.wait_sets("options", 1)[-1]["n"] == runs
    assert _note(harness) == why
    # A plain whole number in range runs as typed, and the note goes.
    _type_n(harness, "3")
    assert harness.wait_sets("options", 2)[-1]["n"] == 3
    assert _note(harness) == ""


def test_n_box_empty_keeps_the_value_and_says_so(harness: Harness) -> None:
    harness.mount(options={**DEFAULT_OPTIONS, "n": 4})
    _type_n(harness, "")
    assert harness.page.input_value(control("n")) == "4"
    assert _note(harness) == "No number given — 4 images will run, as before"
    assert harness.sets("options") == []  # nothing changed, nothing written


def test_n_lowered_by_a_model_change_is_said(harness: Harness) -> None:
    harness.mount(options={**DEFAULT_OPTIONS, "n": 4})
    harness.page.select_option(control("model"), "dall-e-3")
    assert harness.wait_sets("options", 1)[-1]["model"] == "dall-e-3"
    # The kernel answers: the new model's capabilities, then the options with n lowered to its limit.
    harness.set_trait("capabilities", DALLE_3_CAPS)
    harness.set_options(model="dall-e-3", n=1)
    assert harness.page.input_value(control("n")) == "1"
    assert "dall-e-3 makes at most 1 image per request" in _note(harness)


# ------------------------------------------------------------------------------- item 9: people's words

TRANSPARENT = "Transparent background needs PNG or WebP — Format is JPEG"


def test_a_problem_of_two_controls_marks_both_and_shows_once(harness: Harness) -> None:
    harness.mount(options={**DEFAULT_OPTIONS, "background": "transparent", "output_format": "jpeg"})
    # As the kernel lists it: under each parameter involved, its own first.
    harness.set_trait("problems", {"background": TRANSPARENT, "output_format": TRANSPARENT})
    page = harness.page
    shown = page.locator('.iw-problem[data-problem-for="background"]')
    assert shown.is_visible()
    assert shown.text_content() == TRANSPARENT
    assert page.is_hidden('.iw-problem[data-problem-for="output_format"]')
    slot_id = shown.get_attribute("id")
    for name in ("background", "output_format"):
        assert page.get_attribute(control(name), "aria-invalid") == "true", name
        assert page.get_attribute(control(name), "aria-describedby") == slot_id, name
    assert page.locator(".image-widget").get_by_text(TRANSPARENT).count() == 1
    harness.set_trait("problems", {})
    for name in ("background", "output_format"):
        assert page.get_attribute(control(name), "aria-invalid") is None, name


def test_a_file_that_is_not_an_image_is_named(harness: Harness) -> None:
    harness.mount()
    harness.page.set_input_files(
        ".iw-file", [{"name": "photo.txt", "mimeType": "text/plain", "buffer": b"this is not an image"}]
    )
    warning = harness.page.locator(".image-widget").get_by_text("photo.txt is not an image (PNG, JPEG or WebP)")
    warning.wait_for()
    assert harness.sent("add_inputs") == []


# ------------------------------------------------------------------------------- item 7: upload progress

MIB = 1024 * 1024

PICK_BIG = """(size) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(size)], 'photo.png', {type: 'image/png'}));
    const input = document.querySelector('.iw-file');
    input.files = dt.files;
    input.dispatchEvent(new Event('change', {bubbles: true}));
}"""


def _progress(harness: Harness) -> str:
    line = harness.page.locator('[data-role="upload-status"] .iw-upload-progress')
    return (line.text_content() or "").strip() if line.is_visible() else ""


def test_a_big_upload_shows_progress_from_the_kernels_answers(harness: Harness) -> None:
    harness.mount()
    page = harness.page
    page.evaluate(PICK_BIG, 36 * MIB)
    chunks = [c["content"] for c in harness.wait_sent("add_input_chunk", 9)]
    upload_id = chunks[0]["upload_id"]
    page.wait_for_function("() => document.querySelector('[data-role=\"upload-status\"]').dataset.uploading === '1'")
    assert _progress(harness) == "Adding photo.png — 0 / 36 MB"
    for _index in range(3):
        harness.fire({"type": "upload_progress", "upload_id": upload_id, "received": 4 * MIB, "done": False})
    assert _progress(harness) == "Adding photo.png — 12 / 36 MB"
    assert page.eval_on_selector(".iw-upload-bar", "b => [b.value, b.max]") == [12 * MIB, 36 * MIB]
    # Another view's upload is not ours.
    harness.fire({"type": "upload_progress", "upload_id": "someone-else", "received": MIB, "done": True})
    assert _progress(harness) == "Adding photo.png — 12 / 36 MB"
    harness.fire({"type": "upload_progress", "upload_id": upload_id, "received": 24 * MIB, "done": True,
                  "added": ["photo.png"], "problems": []})
    assert _progress(harness) == ""
    assert page.is_hidden('[data-role="upload-status"]')


def test_files_not_added_stay_listed_until_the_next_upload(harness: Harness) -> None:
    harness.mount()
    page = harness.page
    page.set_input_files(".iw-file", [
        {"name": "a.png", "mimeType": "image/png", "buffer": b"12345"},
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"},
    ])
    first = harness.wait_sent("add_inputs", 1)[0]["content"]
    problems = page.locator(".iw-upload-problems")
    assert problems.text_content() == "notes.txt is not an image (PNG, JPEG or WebP)"
    harness.fire({"type": "upload_progress", "upload_id": first["upload_id"], "received": 5, "done": True,
                  "added": [], "problems": ["a.png is a damaged or incomplete PNG file"]})
    assert [li.text_content() for li in problems.locator("li").all()] == [
        "notes.txt is not an image (PNG, JPEG or WebP)", "a.png is a damaged or incomplete PNG file"]
    # A new upload starts: the old problems go at once.
    page.set_input_files(".iw-file", [{"name": "b.png", "mimeType": "image/png", "buffer": b"67890"}])
    harness.wait_sent("add_inputs", 2)
    assert page.is_hidden(".iw-upload-problems")


def test_a_quick_upload_shows_no_progress(harness: Harness) -> None:
    harness.mount()
    page = harness.page
    page.set_input_files(".iw-file", [{"name": "a.png", "mimeType": "image/png", "buffer": b"12345"}])
    sent = harness.wait_sent("add_inputs", 1)[0]["content"]
    harness.fire({"type": "upload_progress", "upload_id": sent["upload_id"], "received": 5, "done": True,
                  "added": ["a.png"], "problems": []})
    page.wait_for_timeout(500)  # a negative check: past the moment after which progress would show
    assert page.is_hidden('[data-role="upload-status"]')


# ------------------------------------------------------------------------------- item 4: kernel lost

LOST = '[data-role="kernel-lost"]'


def _assert_lost(harness: Harness) -> None:
    page = harness.page
    page.wait_for_selector('.image-widget[data-kernel="lost"]')
    text = page.locator(LOST).text_content() or ""
    assert "This widget lost its kernel" in text
    assert "Re-run the cell" in text
    assert page.is_disabled(".iw-generate")  # Generate, or Cancel while a run was going
    assert page.is_disabled('[data-action="add-inputs"]')
    assert page.is_disabled(control("prompt"))
    assert page.is_disabled(control("model"))
    assert page.is_enabled('[data-action="copy-code"]')  # works without a kernel
    assert page.text_content(".iw-state-message") == "No kernel — re-run the cell"


def test_a_send_that_throws_means_the_kernel_is_gone(harness: Harness) -> None:
    harness.mount(results=fake_results(1), status={"state": "done", "message": "1 image in 0.8 s"})
    page = harness.page
    assert page.is_hidden(LOST)
    # What ipywidgets does after a kernel restart: the comm is disposed and send throws.
    page.evaluate("() => { window.__model.send = () => { throw new Error('Cannot send'); }; }")
    page.fill(control("prompt"), "a cat")
    page.click('[data-action="generate"]')
    _assert_lost(harness)  # and the harness checks that nothing was thrown uncaught


def test_the_host_saying_the_comm_went_away_is_enough(harness: Harness) -> None:
    harness.mount(results=fake_results(1), status={"state": "running", "message": "Generating…", "started_ms": 1})
    page = harness.page
    page.evaluate("() => window.__model.emit('comm_live_update')")  # ipywidgets, on kernel restart
    _assert_lost(harness)
    assert page.text_content('[data-role="timer"]') == ""  # the elapsed counter stopped
    # State the page still holds redraws the views: nothing comes back to life.
    harness.set_options(model="gpt-image-1.5")
    assert page.is_disabled(control("quality"))
    assert page.is_disabled(".iw-generate")
    page.click('[data-action="copy-code"]')
    page.locator("textarea.iw-code").wait_for()


def test_a_failing_write_is_a_lost_kernel_too(harness: Harness) -> None:
    harness.mount(results=fake_results(1))
    page = harness.page
    page.evaluate("() => { window.__model.send = () => { throw new Error('Cannot send'); }; }")
    page.select_option(control("quality"), "high")  # an option change is a message now (options_patch)
    _assert_lost(harness)
