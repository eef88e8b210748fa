"""The local engine's prompt vocabulary."""

from __future__ import annotations

import pytest
from workbench_engines.local_prompt import COLOURS, parse_prompt


@pytest.mark.parametrize(("prompt", "scene"), [
    ("on a white studio backdrop", "white_studio"),
    ("Grey Studio, soft light", "grey_studio"),
    ("on beige linen", "linen"),
    ("flat lay on linen", "linen"),
    ("MARBLE counter top", "marble"),
    ("raw concrete", "concrete"),
    ("on a wooden table", "wood"),
    ("at sunset", "sunset"),
    ("pastel backdrop", "pastel"),
    ("soft gradient", "gradient"),
    ("in the park", "outdoor"),
    ("on a kitchen counter", "kitchen"),
    ("beach scene", "beach"),
    ("just the product", "white_studio"),
    ("on a pink background", "color_studio"),
])
def test_scene_words(prompt: str, scene: str) -> None:
    assert parse_prompt(prompt).scene == scene


def test_colourways_and_background_colours_are_told_apart() -> None:
    spec = parse_prompt("Tee in forest green on a pink background")
    assert spec.colourway == "forest green"
    assert spec.background_colour == COLOURS["pink"]
    assert parse_prompt("colourway navy").colourway == "navy"
    assert parse_prompt("colorway Red, studio").colourway == "red"
    assert parse_prompt("mustard version on marble").colourway == "mustard"
    assert parse_prompt("white studio").scene == "white_studio"


def test_moods_framing_aspect_and_removals() -> None:
    spec = parse_prompt("Close-up, warm and moody light, 4:5, no shadow")
    assert set(spec.moods) == {"warm", "moody"}
    assert spec.framing == "close"
    assert spec.aspect == "4:5"
    assert spec.shadow is False and spec.props is True
    assert parse_prompt("golden hour").moods == ("golden_hour",)
    assert parse_prompt("high-key wide shot").framing == "wide"
    assert parse_prompt("Top-down flat-lay").framing == "flatlay"
    assert parse_prompt("studio", negative="shadow, props").shadow is False
    assert parse_prompt("studio", negative="shadow, props").props is False


def test_reflection_words() -> None:
    assert parse_prompt("glossy white studio").reflection > 0.2
    assert 0 < parse_prompt("marble").reflection < 0.2
    assert parse_prompt("marble, no reflection").reflection == 0
    assert parse_prompt("mirror floor", negative="reflection").reflection == 0
    assert parse_prompt("wood").reflection == 0
