"""The window's settings file: round trip, defaults, and broken files falling back with a notice."""

from __future__ import annotations

import json
import os
from pathlib import Path

from stylecam.settings import Settings, load_settings, parse_settings, save_settings, settings_path


def test_missing_file_gives_defaults_without_notice() -> None:
    settings, notice = load_settings()
    assert settings == Settings()
    assert notice is None
    assert settings_path().parent == Path(os.environ["STYLECAM_CONFIG_DIR"])


def test_round_trip_keeps_every_field() -> None:
    s = Settings(
        style="udnie",
        source=2,
        strength=0.7,
        scale=0.5,
        preserve_colors=True,
        mirror=True,
        anchor=False,
        dataset_dir="/data/photos",
        geometry="AdnQywADAAA=",
        recent_files=("/a.mp4", "/b.png"),
    )
    path = save_settings(s)
    assert path == settings_path()
    loaded, notice = load_settings()
    assert notice is None
    assert loaded == s
    assert json.loads(path.read_text())["source"] == 2


def test_path_source_and_auto_scale_round_trip(tmp_path: Path) -> None:
    s = Settings(source="/videos/clip.mp4", scale=None)
    save_settings(s, tmp_path / "s.json")
    assert load_settings(tmp_path / "s.json") == (s, None)


def test_invalid_json_falls_back_to_defaults_with_notice() -> None:
    settings_path().parent.mkdir(parents=True, exist_ok=True)
    settings_path().write_text('{"style": "udnie", ')
    settings, notice = load_settings()
    assert settings == Settings()
    assert notice is not None and "not valid JSON" in notice and "\n" not in notice


def test_binary_garbage_and_non_object_fall_back() -> None:
    settings_path().parent.mkdir(parents=True, exist_ok=True)
    settings_path().write_bytes(b"\xff\xfe\x00garbage")
    settings, notice = load_settings()
    assert settings == Settings() and notice
    settings_path().write_text("[1, 2, 3]")
    settings, notice = load_settings()
    assert settings == Settings() and notice and "JSON object" in notice


def test_bad_fields_reset_one_by_one_and_keep_the_rest() -> None:
    text = json.dumps(
        {"style": "udnie", "strength": 3.5, "scale": 0, "mirror": "yes", "source": -1, "preserve_colors": True, "future_key": 1,
         "anchor": "off"}
    )
    settings, notice = parse_settings(text)
    assert settings.style == "udnie"
    assert settings.preserve_colors is True
    assert settings.strength == Settings().strength
    assert settings.scale is None
    assert settings.mirror is False
    assert settings.anchor is True  # the default back
    assert settings.source is None
    assert notice is not None
    for name in ("strength", "scale", "mirror", "source", "anchor"):
        assert name in notice
    assert "future_key" not in notice and "style," not in notice


def test_nan_and_bool_are_not_numbers() -> None:
    settings, notice = parse_settings('{"strength": NaN, "scale": true}')
    assert settings == Settings()
    assert notice and "strength" in notice and "scale" in notice


def test_strength_steps_clamp_and_round() -> None:
    s = Settings(strength=0.95)
    assert s.with_strength_step(+1).strength == 1.0
    assert Settings(strength=0.3).with_strength_step(-1).strength == 0.2
    assert Settings(strength=0.05).with_strength_step(-1).strength == 0.0


def test_save_is_atomic_and_leaves_no_partial_files(tmp_path: Path) -> None:
    target = tmp_path / "cfg" / "settings.json"
    save_settings(Settings(style="a"), target)
    save_settings(Settings(style="b"), target)
    assert [p.name for p in target.parent.iterdir()] == ["settings.json"]
    assert load_settings(target)[0].style == "b"
