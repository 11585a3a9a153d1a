"""Prompt and options: they follow `capabilities`, write whole `options` dicts, show `problems`."""

from __future__ import annotations

import pytest
from widget_harness import DALLE_3_CAPS, GPT_IMAGE_2_CAPS, Harness, default_state

from image_widget.facts.capabilities import describe

pytestmark = pytest.mark.browser


def control(name: str) -> str:
    return f'.iw-compose [data-option="{name}"]'


def test_option_change_sends_only_that_key(harness: Harness) -> None:
    """Options travel as patches (issue 22, item 1): only the changed key, numbered; never the whole dict, so
    a change Python makes meanwhile to another key cannot be overwritten by the page's copy."""
    harness.mount()
    harness.page.select_option(control("quality"), "high")
    (patch,) = [m["content"] for m in harness.wait_sent("options_patch", 1)]
    assert patch == {"type": "options_patch", "seq": 1, "view": patch["view"], "changes": {"quality": "high"}}
    assert patch["view"].startswith("options-")  # each view numbers its own patches
    assert harness.state("options")["quality"] == "high"  # applied by the (fake) kernel and shown
    assert "save_changes" not in harness.calls(), "options are never written as the whole trait"

    harness.page.check('input[data-mode="edit"]')
    assert harness.wait_sets("options", 2)[-1]["mode"] == "edit"
    harness.page.fill(control("n"), "3")
    harness.page.press(control("n"), "Tab")
    assert harness.wait_sets("options", 3)[-1]["n"] == 3
    harness.page.select_option(control("partial_images"), "2")
    assert harness.wait_sets("options", 4)[-1]["partial_images"] == 2


def test_prompt_counter_and_debounced_write(harness: Harness) -> None:
    harness.mount()
    harness.page.fill(control("prompt"), "a lighthouse at dusk")
    assert harness.page.text_content(".iw-count") == "20 / 32,000"
    writes = harness.wait_sets("options", 1)
    assert writes[-1]["prompt"] == "a lighthouse at dusk"
    harness.set_trait("capabilities", {**GPT_IMAGE_2_CAPS, "prompt_max": 10})
    harness.page.wait_for_selector(".iw-count.iw-over")


def test_ctrl_enter_sends_generate_after_prompt(harness: Harness) -> None:
    harness.mount()
    harness.page.click(control("prompt"))
    harness.page.keyboard.type("a cat")
    harness.page.keyboard.press("Control+Enter")
    msg = harness.wait_sent("generate", 1)[0]["content"]
    # the prompt's patch went before the command (messages keep their order); no newline went into it
    assert harness.sets("options")[-1]["prompt"] == "a cat"
    assert msg == {"type": "generate"}, "no copy of the options rides along: it could undo a Python change"
    sent = [m["content"]["type"] for m in harness.sent()]
    assert sent.index("options_patch") < sent.index("generate")
    harness.page.keyboard.press("Meta+Enter")
    harness.wait_sent("generate", 2)


def test_controls_follow_capabilities(harness: Harness) -> None:
    harness.mount()
    page = harness.page
    # gpt-image-2: custom sizes allowed, compression off for png, no input_fidelity
    assert page.is_visible(control("custom_size"))
    assert page.is_disabled(control("output_compression"))
    assert "webp" in (page.get_attribute(control("output_compression"), "title") or "")
    assert page.is_disabled(control("input_fidelity"))
    assert "input_fidelity" in (page.get_attribute(control("input_fidelity"), "title") or "")
    assert page.is_enabled(control("background"))

    page.select_option(control("output_format"), "webp")
    harness.wait_sets("options", 1)
    assert page.is_enabled(control("output_compression"))
    page.fill(control("output_compression"), "70")
    page.press(control("output_compression"), "Enter")
    assert harness.wait_sets("options", 2)[-1]["output_compression"] == 70
    page.select_option(control("output_format"), "jpeg")
    harness.wait_sets("options", 3)
    assert page.is_enabled(control("output_compression"))
    assert page.input_value(control("output_compression")) == "70"
    page.select_option(control("output_format"), "png")
    last = harness.wait_sets("options", 4)[-1]
    assert last["output_format"] == "png"
    assert last["output_compression"] is None
    assert page.is_disabled(control("output_compression"))

    # a retired DALL·E 3: most options disabled, each with its reason
    # as the kernel leaves options after a model switch: what the model lacks is reset or None
    harness.set_options(
        model="dall-e-3", size="1024x1024", quality="standard", output_format="png", background=None, moderation=None
    )
    harness.set_trait("capabilities", DALLE_3_CAPS)
    assert page.is_hidden(control("custom_size"))
    for name, reason in [
        ("background", "no background"),
        ("moderation", "no moderation"),
        ("partial_images", "does not stream"),
        ("n", "one image"),
        ("output_format", "only returns png"),
        ("input_fidelity", "input_fidelity"),
    ]:
        assert page.is_disabled(control(name)), name
        assert reason in (page.get_attribute(control(name), "title") or ""), name
    assert page.input_value(control("background")) == ""
    assert page.eval_on_selector(control("moderation"), "s => s.selectedOptions[0].textContent") == "default"
    assert page.is_disabled('input[data-mode="edit"]')
    assert "no edit endpoint" in (page.get_attribute('input[data-mode="edit"]', "title") or "")
    sizes = page.eval_on_selector(control("size"), "s => [...s.options].map(o => o.value)")
    assert sizes == ["1024x1024", "1792x1024", "1024x1792"]
    assert "retired" in (page.text_content('[data-role="model-note"]') or "")


def test_input_fidelity_enabled_when_listed(harness: Harness) -> None:
    harness.mount(capabilities={**GPT_IMAGE_2_CAPS, "input_fidelity": ["high", "low"]})
    page = harness.page
    assert page.is_enabled(control("input_fidelity"))
    page.select_option(control("input_fidelity"), "high")
    assert harness.wait_sets("options", 1)[-1]["input_fidelity"] == "high"
    page.select_option(control("input_fidelity"), "")
    assert harness.wait_sets("options", 2)[-1]["input_fidelity"] is None


def test_custom_size(harness: Harness) -> None:
    harness.mount()
    page = harness.page
    page.select_option(control("size"), "__custom__")
    page.fill(control("custom_size"), "2048 x 1152")
    page.press(control("custom_size"), "Enter")
    assert harness.wait_sets("options", 1)[-1]["size"] == "2048x1152"
    assert page.input_value(control("size")) == "__custom__"
    harness.set_trait("capabilities", {**GPT_IMAGE_2_CAPS, "custom_size": False})
    assert page.is_hidden(control("custom_size"))
    assert "not available" in page.eval_on_selector(control("size"), "s => s.selectedOptions[0].textContent")


def test_size_match_reads_match_input_with_its_size(harness: Harness) -> None:
    """Issue 22, item 5: size="match" is one entry, "Match input (W×H)", not "custom…" plus a box with `match`."""
    from support.images import png

    options = {**default_state()["options"], "mode": "edit", "size": "match"}
    harness.mount(options=options, inputs=[{"id": "in1", "name": "photo.png", "width": 1600, "height": 1200,
                                            "thumb": png((80, 60))}])
    page = harness.page
    assert page.input_value(control("size")) == "match"
    label = page.eval_on_selector(control("size"), "s => s.selectedOptions[0].textContent")
    assert label == "Match input (1600×1200)"
    assert page.input_value(control("custom_size")) == "", "no 'match' in the custom box"
    page.select_option(control("size"), "1024x1024")
    assert harness.wait_sets("options", 1)[-1]["size"] == "1024x1024"
    page.select_option(control("size"), "match")
    assert harness.wait_sets("options", 2)[-1]["size"] == "match"


def test_problems_next_to_their_control(harness: Harness) -> None:
    harness.mount()
    # An empty prompt's problem shows once a run was tried (issue 14 item 8; test_module_feedback.py).
    harness.page.click('[data-action="generate"]')
    harness.set_trait(
        "problems",
        {
            "size": "size='999x1' is not allowed for model gpt-image-2",
            "output_compression": "output_compression works only with webp or jpeg",
            "stream": "output_format gif cannot stream; turn partial previews off",
            "svg": "svg options work only with output_format svg",
            "prompt": "prompt is empty; describe the image you want",
        },
    )
    page = harness.page
    for field, text in [
        ("size", "999x1"),
        ("output_compression", "works only with webp"),
        ("partial_images", "cannot stream"),
        ("prompt", "prompt is empty"),
    ]:
        slot = page.locator(f'.iw-field[data-field="{field}"] .iw-problem[data-problem-for="{field}"]')
        assert slot.is_visible(), field
        assert text in (slot.text_content() or ""), field
    general = page.locator(".iw-problems-general")
    assert general.is_visible()
    assert "svg options" in (general.text_content() or "")
    assert page.get_attribute(control("prompt"), "aria-invalid") == "true"
    harness.set_trait("problems", {})
    assert page.is_hidden('.iw-problem[data-problem-for="size"]')
    assert page.is_hidden(".iw-problems-general")
    assert page.get_attribute(control("prompt"), "aria-invalid") is None


def test_every_control_is_labelled(harness: Harness) -> None:
    harness.mount()
    unlabelled = harness.page.evaluate(
        """() => [...document.querySelectorAll(
                  '.image-widget :is(input, select, textarea, button, canvas[tabindex])')]
              .filter(el => !el.hidden && !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                            && !(el.tagName === 'BUTTON' && el.textContent.trim()))
              .map(el => el.outerHTML.slice(0, 80))"""
    )
    assert unlabelled == []


def test_the_shutdown_date_shows_next_to_the_model_picker(harness: Harness) -> None:
    options = {**default_state()["options"], "model": "gpt-image-1-mini"}
    harness.mount(options=options, capabilities=describe("gpt-image-1-mini"))
    note = harness.page.locator('[data-role="model-note"]')
    assert note.is_visible()
    text = note.text_content() or ""
    assert "Model gpt-image-1-mini shuts down on 2026-12-01 (in 2 days)" in text
    assert "use gpt-image-2.6-sunburst or gpt-image-2.6-flare instead" in text


def test_model_picker_names_dates_and_disables_shut_down_models(harness: Harness) -> None:
    """Issue 23, item 3: current models plain, an announced one with its date, a shut-down one disabled."""
    labels = {"gpt-image-2": {"label": "gpt-image-2", "retired": False},
              "gpt-image-1.5": {"label": "gpt-image-1.5 (shuts down 2026-12-01)", "retired": False},
              "dall-e-3": {"label": "dall-e-3 (shut down 2026-05-12)", "retired": True}}
    harness.mount(models=list(labels), model_labels=labels)
    options = harness.page.eval_on_selector_all(
        f"{control('model')} option", "os => os.map(o => [o.value, o.textContent, o.disabled])")
    assert options == [["gpt-image-2", "gpt-image-2", False],
                       ["gpt-image-1.5", "gpt-image-1.5 (shuts down 2026-12-01)", False],
                       ["dall-e-3", "dall-e-3 (shut down 2026-05-12)", True]]


def test_the_kernels_model_labels_come_from_the_lifecycle_data() -> None:
    from image_widget.widget.options import model_labels, models_for_picker

    names = models_for_picker("gpt-image-2")
    labels = model_labels(names)
    assert names.index("gpt-image-2") < names.index("dall-e-3"), "current models first"
    assert labels["dall-e-3"] == {"label": "dall-e-3 (shut down 2026-05-12)", "retired": True}
    assert labels["gpt-image-1.5"]["label"] == "gpt-image-1.5 (shuts down 2026-12-01)"  # the tests' day: 11-29
    assert labels["gpt-image-2"] == {"label": "gpt-image-2", "retired": False}


def test_variation_for_a_model_without_the_endpoint_goes_through_edit(harness: Harness) -> None:
    """Issue 23, item 4: gpt-image-2 has no variations endpoint, yet `iw.vary` makes variations through edit;
    the widget offers the same, labelled as it is, instead of greying Variation out."""
    harness.mount(capabilities=dict(GPT_IMAGE_2_CAPS))  # endpoints: edit, generate
    page = harness.page
    variation = page.locator('input[data-mode="variation"]')
    assert variation.is_enabled()
    label = page.locator("label.iw-seg-item", has=variation)
    assert label.inner_text() == "Variation (via edit)"
    assert "through edit" in (variation.get_attribute("title") or "")
    variation.check()
    assert harness.wait_sets("options", 1)[-1]["mode"] == "variation"
    harness.set_trait("capabilities", {**GPT_IMAGE_2_CAPS, "endpoints": ["generate"]})
    assert label.inner_text() == "Variation", "no edit either: the plain label, disabled unless chosen"
