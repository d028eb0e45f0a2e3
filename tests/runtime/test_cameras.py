"""Cameras (issue 16): `camera NAME on PARENT at (...) { ... }` as Drake's `RgbdSensor`, its
images observed whole (`observation pixels = CAM.color`), a `Dict` observation with the state."""

from __future__ import annotations

import itertools
import math
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from scenario_dsl import loads, make_env
from scenario_dsl.lang.loader import analyze_text

# A red ball slides along x in front of a camera 1 m away on -y, looking at the origin.
SLIDER = """scenario slider
plant { time_step = 10 ms; gravity = [0, 0, 0] m/s^2 }
body ball { mass = 1 kg; shape = sphere(4 cm); color = [1, 0, 0] }
joint slide: prismatic(world -> ball, axis = [1, 0, 0]) { actuated; initial = 0.1 m }
camera eye on world at (translation = [0, -1, 0] m) { look_at = [0, 0, 0] m; width = 96; height = 64; fov = 40 deg }
action push = slide.effort in [-1, 1] N
observation pixels = eye.color
observation depth = eye.depth
observation state = [slide.q, slide.v]
reward { -slide.q^2 }
episode { step = 50 ms; time_limit = 1 s }
randomize { slide.q ~ uniform(-0.2, 0.2) }
"""


def _red_centre(image: np.ndarray) -> np.ndarray:
    pixels = image.astype(int)
    red = (pixels[..., 0] > 150) & (pixels[..., 1] < 80) & (pixels[..., 2] < 80)
    rows, cols = np.nonzero(red)
    assert len(rows) > 4, "the ball is in view"
    return np.array([cols.mean(), rows.mean()])


def _predicted_pixel(x: float, width: int = 96, height: int = 64, fov: float = math.radians(40)) -> np.ndarray:
    """Where the pinhole model of Drake's `CameraInfo(width, height, fov_y)` puts the point
    (x, 0, 0) for a camera at (0, -1, 0) looking along +y (image right is +x, image down is -z)."""
    focal = height / 2 / math.tan(fov / 2)
    depth = 1.0
    return np.array([width / 2 - 0.5 + focal * x / depth, height / 2 - 0.5])


def test_the_ball_lands_on_the_pixel_the_intrinsics_predict_and_moves_with_it() -> None:
    env = make_env(loads(SLIDER), seed=0)
    try:
        for seed in (1, 2, 3):
            observation, _ = env.reset(seed=seed)
            x = float(observation["state"][0])
            np.testing.assert_allclose(_red_centre(observation["pixels"]), _predicted_pixel(x), atol=1.0)
            # the depth image: the ball's front face is 1 m - 4 cm from the camera
            column, row = np.round(_predicted_pixel(x)).astype(int)
            assert observation["depth"][row, column, 0] == pytest.approx(0.96, abs=0.01)
    finally:
        env.close()


def test_the_same_seed_gives_the_same_images_bit_for_bit() -> None:
    env = make_env(loads(SLIDER), seed=0)
    try:
        first, _ = env.reset(seed=5)
        steps = [env.step(np.array([0.7], dtype=np.float32))[0] for _ in range(3)]
        again, _ = env.reset(seed=5)
        steps_again = [env.step(np.array([0.7], dtype=np.float32))[0] for _ in range(3)]
        for a, b in zip([first, *steps], [again, *steps_again], strict=True):
            for key in a:
                np.testing.assert_array_equal(a[key], b[key])
        assert not np.array_equal(first["pixels"], steps[-1]["pixels"])  # it moved
    finally:
        env.close()


def test_images_and_state_are_a_dict_both_checkers_accept() -> None:
    env = make_env(loads(SLIDER), seed=0)
    try:
        space = env.observation_space
        assert isinstance(space, gym.spaces.Dict) and set(space.spaces) == {"pixels", "depth", "state"}
        assert space["pixels"] == gym.spaces.Box(0, 255, (64, 96, 3), np.uint8)
        assert space["depth"].dtype == np.float32 and space["depth"].shape == (64, 96, 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unbounded state, a float depth image: warnings, not failures
            gym_check_env(env, skip_render_check=True)
            sb3_check_env(env)
    finally:
        env.close()


def test_one_image_alone_is_a_box_for_a_cnn() -> None:
    text = SLIDER.replace("observation depth = eye.depth\n", "").replace("observation state = [slide.q, slide.v]\n", "")
    env = make_env(loads(text), seed=0)
    try:
        assert env.observation_space == gym.spaces.Box(0, 255, (64, 96, 3), np.uint8)
        observation, _ = env.reset(seed=0)
        assert observation.shape == (64, 96, 3) and observation.dtype == np.uint8
    finally:
        env.close()


def test_a_recording_can_film_through_a_scenario_camera() -> None:
    env = make_env(loads(SLIDER), seed=0, render_mode="rgb_array", camera="eye")
    try:
        observation, _ = env.reset(seed=1)
        np.testing.assert_array_equal(env.render(), observation["pixels"])
    finally:
        env.close()


def test_a_camera_on_a_body_rides_with_it() -> None:
    # The camera on the ball looks along +x at a green wall: the wall grows as the ball nears it.
    text = SLIDER.replace("camera eye on world at (translation = [0, -1, 0] m) { look_at = [0, 0, 0] m;",
                          "camera eye on ball at (translation = [0.05, 0, 0] m) { look_at = [1, 0, 0] m;")
    text = text.replace("observation pixels", "body wall { shape = box(0.02, 0.3, 0.3); color = [0, 1, 0] }\n"
                        "weld world -> wall at (translation = [0.6, 0, 0] m)\nobservation pixels")
    env = make_env(loads(text), seed=0)
    try:
        covered = []
        for seed in range(6):
            observation, _ = env.reset(seed=seed)
            green = (observation["pixels"][..., 1] > 150) & (observation["pixels"][..., 0] < 80)
            covered.append((float(observation["state"][0]), float(green.mean())))
        covered.sort()
        assert covered[-1][1] > covered[0][1] > 0  # nearer the wall (larger x), more of it in view
    finally:
        env.close()


@pytest.mark.parametrize(("change", "code", "message"), [
    (("width = 96", "width = 96.5"), "SCN401", "whole number of pixels"),
    (("width = 96", "width = 1"), "SCN401", "at least 2"),  # Drake wants the image centre inside it
    (("width = 96; height = 64", "width = 4096; height = 2048"), "SCN412", "pixels"),
    (("fov = 40 deg", "fov = 200 deg"), "SCN401", "below 180 degrees"),
    (("fov = 40 deg", "fov = 40 deg; near = 2 m; far = 1 m"), "SCN402", "near < far"),
    (("look_at = [0, 0, 0] m", "look_at = [0, -1, 0] m"), "SCN401", "looks at the point it stands on"),
    (("observation pixels = eye.color", "observation pixels = eye.colour"), "SCN204", "gives"),
    (("reward { -slide.q^2 }", "reward { -slide.q^2 - sum(eye.color) }"), "SCN206", "observed whole"),
    (("observation state =", "observation speeds ="), None, None),
    (("camera eye on world", "camera eye on nowhere"), "SCN201", "undefined frame"),
])
def test_lint_checks_cameras(change: tuple[str, str], code: str | None, message: str | None) -> None:
    old, new = change
    assert old in SLIDER
    found = analyze_text(SLIDER.replace(old, new), "slider.scn").diagnostics
    errors = [d for d in found if d.severity is None or d.severity.name == "ERROR"]
    if code is None:
        assert not errors
        return
    assert any(d.code == code and message in d.message for d in errors), [(d.code, d.message) for d in found]


# The ball stays put; a green box behind it; the ball's colour is drawn each episode.
COLOURED = SLIDER.replace("randomize { slide.q ~ uniform(-0.2, 0.2) }", "randomize { ball.color ~ uniform(0, 1) }") \
    .replace("observation depth = eye.depth", "observation labels = eye.label\n"
             "body backdrop { shape = box(0.5, 0.02, 0.5); color = [0, 0.8, 0] }\n"
             "weld world -> backdrop at (translation = [0, 0.3, 0] m)")


def test_a_colour_draw_changes_only_that_bodys_pixels() -> None:
    env = make_env(loads(COLOURED), seed=0)
    try:
        first, info = env.reset(seed=1)
        second, info2 = env.reset(seed=2)
        drawn = [np.asarray(i["randomization"]["ball.color"]) for i in (info, info2)]
        assert not np.allclose(drawn[0], drawn[1])
        changed = np.any(first["pixels"] != second["pixels"], axis=-1)
        ball = env.unwrapped.compiled.plant.GetBodyByName("ball").index()
        on_ball = first["labels"][..., 0] == int(ball)
        assert changed.sum() > 20 and on_ball.sum() > 20
        # Nothing else changed (the backdrop, the background) but the silhouette's edge, whose
        # pixels blend the ball's colour in (VTK anti-aliases) while their label is the backdrop's.
        near_ball = on_ball.copy()
        for axis in (0, 1):
            for shift in (-1, 1):
                near_ball |= np.roll(on_ball, shift, axis=axis)
        assert not np.any(changed & ~near_ball)
        # the ball's pixels are its drawn colour, shaded: brightest where it faces the light
        brightest = first["pixels"][on_ball].max(axis=0) / 255
        assert np.argmax(brightest) == np.argmax(drawn[0])
    finally:
        env.close()


def test_a_camera_pose_draw_moves_the_picture_each_episode() -> None:
    # The camera slides along x by the drawn offset: the ball, held at x = 0.1, moves the other way.
    text = SLIDER.replace("randomize { slide.q ~ uniform(-0.2, 0.2) }",
                          "randomize { let dx ~ uniform(-0.1, 0.1); eye.position +~ [dx, 0, 0] m }")
    env = make_env(loads(text), seed=0)
    try:
        for seed in (1, 2):
            observation, info = env.reset(seed=seed)
            shift = float(info["randomization"]["dx"])
            # the camera at x = shift keeps its rotation: the ball at x = 0.1 is at 0.1 - shift in its view
            np.testing.assert_allclose(_red_centre(observation["pixels"]), _predicted_pixel(0.1 - shift), atol=1.0)
    finally:
        env.close()


def test_a_field_of_view_draw_zooms() -> None:
    text = SLIDER.replace("randomize { slide.q ~ uniform(-0.2, 0.2) }",
                          "randomize { eye.fov ~ uniform(20 deg, 60 deg) }")
    env = make_env(loads(text), seed=0)
    try:
        seen = []
        for seed in range(8):
            observation, info = env.reset(seed=seed)
            fov = float(np.asarray(info["randomization"]["eye.fov"]).reshape(-1)[0])
            centre = _red_centre(observation["pixels"])
            np.testing.assert_allclose(centre, _predicted_pixel(0.1, fov=fov), atol=1.0)
            seen.append(centre[0])
        assert max(seen) - min(seen) > 2  # a narrower view puts the ball further out
    finally:
        env.close()


def test_sample_render_writes_a_contact_sheet_of_different_first_frames(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    from scenario_dsl.cli import main
    from scenario_dsl.runtime.sheet import GAP

    scenario = tmp_path / "coloured.scn"
    scenario.write_text(COLOURED.replace("randomize { ball.color ~ uniform(0, 1) }",
                                         "randomize { ball.color ~ uniform(0, 1); slide.q ~ uniform(-0.2, 0.2) }"))
    sheet = tmp_path / "sheet.png"
    assert main(["sample", str(scenario), "-n", "16", "--render", "16", "--sheet", str(sheet)]) == 0
    assert "16 first frames from camera `eye`" in capsys.readouterr().err
    image = np.asarray(Image.open(sheet).convert("RGB"))
    assert image.shape == (4 * (64 + GAP) + GAP, 4 * (96 + GAP) + GAP, 3)  # a 4 x 4 grid of 96 x 64 frames
    frames = [image[GAP + r * (64 + GAP):GAP + r * (64 + GAP) + 64, GAP + c * (96 + GAP):GAP + c * (96 + GAP) + 96]
              for r in range(4) for c in range(4)]
    assert len({frame.tobytes() for frame in frames}) == 16  # every episode looks different
    assert main(["sample", str(scenario), "--render", "2", "--camera", "nowhere", "--sheet", str(sheet)]) == 2
    assert "camera must be one of" in capsys.readouterr().err


def _ball_brightness(image: np.ndarray) -> float:
    """The mean red of the ball's pixels (red above green and blue; the background is pale blue)."""
    pixels = image.astype(int)
    ball = (pixels[..., 0] > pixels[..., 1] + 20) & (pixels[..., 0] > pixels[..., 2] + 20)
    assert ball.sum() > 4
    return float(pixels[..., 0][ball].mean())


def test_a_light_draw_changes_brightness() -> None:
    lit = SLIDER.replace("randomize { slide.q ~ uniform(-0.2, 0.2) }",
                         "light sun { direction = [0, 1, 0]; intensity = 1 }\n"
                         "randomize per build { sun.intensity ~ uniform(0.1, 1) }")
    env = make_env(loads(lit), seed=0)
    try:
        seen = []
        for seed in range(5):
            observation, info = env.reset(seed=seed)
            seen.append((float(np.asarray(info["randomization"]["sun.intensity"]).reshape(-1)[0]),
                         _ball_brightness(observation["pixels"])))
        seen.sort()
        intensities, brightness = zip(*seen, strict=True)
        assert intensities[-1] - intensities[0] > 0.2
        assert all(a <= b for a, b in itertools.pairwise(brightness))  # brighter with the light
        assert brightness[-1] > brightness[0] + 20
    finally:
        env.close()


def test_lint_checks_lights() -> None:
    bad = SLIDER.replace("randomize { slide.q ~ uniform(-0.2, 0.2) }",
                         "light sun { direction = [0, 0, 0]; intensity = -1 }\n"
                         "randomize { sun.intensity ~ uniform(0, 1) }")
    found = {(d.code, d.message.split(":")[0]) for d in analyze_text(bad, "slider.scn").diagnostics}
    codes = {code for code, _ in found}
    assert {"SCN401", "SCN204"} <= codes, found  # a zero direction, a negative intensity; drawn per episode


def test_image_noise_is_drawn_per_pixel_and_step_and_replays_with_the_seed() -> None:
    noisy = SLIDER.replace("randomize { slide.q ~ uniform(-0.2, 0.2) }",
                           "randomize per step { pixels.noise ~ normal(0, 10); depth.noise ~ normal(0, 0.01) }")
    clean = make_env(loads(SLIDER.replace("randomize { slide.q ~ uniform(-0.2, 0.2) }", "")), seed=0)
    env = make_env(loads(noisy), seed=0)
    try:
        plain, _ = clean.reset(seed=3)
        first, _ = env.reset(seed=3)
        difference = first["pixels"].astype(int) - plain["pixels"].astype(int)
        assert 7 < difference.std() < 12  # per pixel, about the drawn 10 (less where 0 or 255 clips it)
        assert first["pixels"].dtype == np.uint8 and np.abs(first["depth"] - plain["depth"]).max() > 0
        second, *_ = env.step(np.zeros(1, dtype=np.float32))
        assert not np.array_equal(first["pixels"], second["pixels"])  # new noise each step
        again, _ = env.reset(seed=3)
        np.testing.assert_array_equal(first["pixels"], again["pixels"])
    finally:
        env.close()
        clean.close()


@pytest.mark.parametrize(("text", "message"), [
    ("observation labels = eye.label\nrandomize per step { labels.noise ~ normal(0, 1) }", "only a colour or depth"),
    ("reward { -slide.q^2 - pixels[0] }", "is an image"),
])
def test_images_are_not_numbers_to_compute_with(text: str, message: str) -> None:
    source = SLIDER.replace("reward { -slide.q^2 }\n", "") if text.startswith("reward") else SLIDER
    found = analyze_text(source + text + "\n", "slider.scn").diagnostics
    assert any(message in d.message for d in found), [d.message for d in found]


# Distractors: markers the camera sees, at drawn places and colours, a drawn number of them
# in view (the others parked out of sight, 10 m below).
DISTRACTED = SLIDER.replace("randomize { slide.q ~ uniform(-0.2, 0.2) }", """randomize {
    let shown ~ integers(0, 2)
    let x1 ~ uniform(-0.3, 0.3)
    let x2 ~ uniform(-0.3, 0.3)
    d1.color ~ uniform(0, 1)
    d2.color ~ uniform(0, 1)
}
marker d1 { shape = box(4, 4, 4) cm; position = [x1, 0.2, 0.1] m + [0, 0, -10] m * (shown < 1) }
marker d2 { shape = box(4, 4, 4) cm; position = [x2, 0.2, -0.1] m + [0, 0, -10] m * (shown < 2) }""")


def test_distractors_are_markers_the_camera_sees_in_drawn_numbers_places_and_colours() -> None:
    env = make_env(loads(DISTRACTED), seed=0)
    try:
        background = np.array([204, 229, 255])
        for seed in range(8):
            observation, info = env.reset(seed=seed)
            drawn = info["randomization"]
            pixels = observation["pixels"].astype(int)
            rows = np.any(np.abs(pixels - background).sum(axis=-1) > 30, axis=1)  # rows with something in them
            upper, lower = rows[:26].any(), rows[38:].any()  # d1 sits above the ball's row, d2 below it
            shown = int(np.asarray(drawn["shown"]).reshape(-1)[0])
            assert (upper, lower) == (shown >= 1, shown >= 2), (seed, shown)
    finally:
        env.close()


def test_a_background_draw_changes_the_empty_pixels_only() -> None:
    backed = SLIDER.replace("fov = 40 deg }", "fov = 40 deg; background = [0, 0, 0] }") \
        .replace("randomize { slide.q ~ uniform(-0.2, 0.2) }",
                 "randomize per build { eye.background ~ uniform(0, 1) }") \
        .replace("observation depth = eye.depth", "observation labels = eye.label")
    env = make_env(loads(backed), seed=0)
    try:
        images, colours = [], []
        for seed in (1, 2):
            observation, info = env.reset(seed=seed)
            images.append(observation)
            colours.append(np.asarray(info["randomization"]["eye.background"], dtype=float))
        empty = images[0]["labels"][..., 0] != int(env.unwrapped.compiled.plant.GetBodyByName("ball").index())
        corner = images[0]["pixels"][0, 0].astype(float) / 255
        np.testing.assert_allclose(corner, colours[0], atol=2 / 255)  # the drawn colour, as VTK clears to it
        changed = np.any(images[0]["pixels"] != images[1]["pixels"], axis=-1)
        assert changed[empty].mean() > 0.95 and not np.any(changed[~empty & ~np.roll(empty, 1, 0)
                                                                     & ~np.roll(empty, -1, 0) & ~np.roll(empty, 1, 1)
                                                                     & ~np.roll(empty, -1, 1)])
    finally:
        env.close()


@pytest.mark.parametrize(("randomize", "code", "hint"), [
    ("randomize per step { eye.color.noise ~ normal(0, 5) }", "SCN204", "pixels.noise"),
    ("observation labels = eye.label\nrandomize per step { labels.noise ~ normal(0, 1) }", "SCN204",
     "a label image takes none"),
    ("randomize { eye.fov +~ uniform(-50, 50) }", "SCN405", None),  # radians: the view could close to 0
    ("light sun { intensity = 1 }\nrandomize per build every 5 episodes { sun.intensity ~ uniform(0.5, 1) }",
     "SCN410", "per build only"),
])
def test_what_a_newcomer_met_is_explained(randomize: str, code: str, hint: str | None) -> None:
    found = [d for d in analyze_text(SLIDER + randomize + "\n", "slider.scn").diagnostics if d.code == code]
    assert found, randomize
    if hint is not None:
        assert hint in (found[0].hint or ""), found[0].hint


def test_a_field_of_view_drawn_past_180_degrees_is_one_clear_error() -> None:
    from scenario_dsl.lang.diagnostics import ScnError

    env = make_env(loads(SLIDER.replace("randomize { slide.q ~ uniform(-0.2, 0.2) }",
                                        "randomize { eye.fov +~ uniform(2.6, 2.8) }")), seed=0)
    try:
        with pytest.raises(ScnError, match="a field of view is between 0 and 180 degrees"):
            env.reset(seed=0)
    finally:
        env.close()


def _textures(folder: Path) -> None:
    from PIL import Image

    stripes = (np.indices((32, 32)).sum(axis=0) // 4 % 2).astype(bool)
    Image.fromarray(np.where(stripes[..., None], [255, 255, 0], [0, 0, 255]).astype(np.uint8)).save(folder / "a.png")
    Image.fromarray(np.full((32, 32, 3), [0, 200, 0], np.uint8)).save(folder / "b.png")
    (folder / "c.txt.png").write_text("not a PNG")


PLATE = """scenario plate
plant { time_step = 10 ms; gravity = [0, 0, 0] m/s^2 }
body plate { shape = box(0.4, 0.02, 0.4); mass = 1 kg; texture = "TEXTURE" }
joint slide: prismatic(world -> plate, axis = [1, 0, 0]) { actuated }
camera eye on world at (translation = [0, -1, 0] m) { look_at = [0, 0, 0] m; fov = 30 deg }
action push = slide.effort in [-1, 1] N
observation pixels = eye.color
reward { -slide.q^2 }
episode { step = 50 ms; time_limit = 1 s }
"""


def test_a_texture_is_drawn_and_a_drawn_index_picks_another(tmp_path: Path) -> None:
    (tmp_path / "scn.toml").write_text("")
    (tmp_path / "textures").mkdir()
    _textures(tmp_path / "textures")
    (tmp_path / "textures" / "c.txt.png").unlink()
    text = PLATE.replace("TEXTURE", "textures/*.png") + "randomize { plate.texture ~ integers(0, 1) }\n"
    env = make_env(loads(text, base_dir=tmp_path), seed=0)
    try:
        seen = {}
        for seed in range(6):
            observation, info = env.reset(seed=seed)
            index = int(np.asarray(info["randomization"]["plate.texture"]).reshape(-1)[0])
            centre = observation[16:48, 32:64].reshape(-1, 3).astype(int)
            yellow = ((centre[:, 0] > 150) & (centre[:, 1] > 150) & (centre[:, 2] < 100)).mean()
            blue = ((centre[:, 2] > 150) & (centre[:, 0] < 100)).mean()
            green = ((centre[:, 1] > 120) & (centre[:, 0] < 80) & (centre[:, 2] < 80)).mean()
            seen[index] = (yellow, blue, green)
        assert set(seen) == {0, 1}
        assert seen[0][0] > 0.2 and seen[0][1] > 0.2 and seen[0][2] < 0.05  # a.png: yellow and blue stripes
        assert seen[1][2] > 0.5 and seen[1][0] < 0.05  # b.png: green, no stripes
    finally:
        env.close()


@pytest.mark.parametrize(("texture", "code"), [
    ("../outside.png", "SCN005"), ("textures/c.txt.png", "SCN507"), ("textures/none.png", "SCN501"),
    ("*/a.png", "SCN404"), ("/etc/*.png", "SCN005"), ("../*.png", "SCN005"),  # not even listed
])
def test_texture_files_are_checked_like_model_files(tmp_path: Path, texture: str, code: str) -> None:
    project = tmp_path / "project"
    (project / "textures").mkdir(parents=True)
    (project / "scn.toml").write_text("")
    _textures(project / "textures")
    _textures(tmp_path)
    (tmp_path / "outside.png").write_bytes((tmp_path / "a.png").read_bytes())
    scenario = project / "plate.scn"
    scenario.write_text(PLATE.replace("TEXTURE", texture))
    from scenario_dsl.lang.loader import analyze_file

    found = analyze_file(scenario).diagnostics
    assert [d.code for d in found] == [code], [(d.code, d.message) for d in found]


def test_a_colour_and_a_texture_drawn_on_one_body_both_hold(tmp_path: Path) -> None:
    # Both are the body's perception properties, written together once per episode: the later
    # draw must not put the earlier back to its nominal value.
    (tmp_path / "scn.toml").write_text("")
    (tmp_path / "textures").mkdir()
    _textures(tmp_path / "textures")
    (tmp_path / "textures" / "c.txt.png").unlink()
    text = (PLATE.replace("TEXTURE", "textures/*.png").replace("mass = 1 kg;", "mass = 1 kg; color = [1, 1, 1];")
            + "randomize { plate.texture ~ integers(0, 1); plate.color ~ uniform([0, 0, 0], [0.01, 0.01, 0.01]) }\n")
    env = make_env(loads(text, base_dir=tmp_path), seed=0)
    try:
        shown = set()
        for seed in range(6):
            observation, info = env.reset(seed=seed)
            shown.add(int(np.asarray(info["randomization"]["plate.texture"]).reshape(-1)[0]))
            assert observation[26:38, 42:54].max() < 60  # the drawn texture, tinted black by the drawn colour
        assert shown == {0, 1}
    finally:
        env.close()
