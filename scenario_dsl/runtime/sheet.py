"""`scn sample --render N`: a contact sheet of N episodes' first frames, each reset with its own
seed, so a user sees at a glance what the agent (or the recording camera) sees across the
randomization: colours, camera poses, where things start."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from scenario_dsl.lang import model as m
from scenario_dsl.runtime.env import ScenarioEnv

MAX_FRAMES = 256  # a sheet's frames: at the recording camera's 320 x 240, about 60 MB of pixels
GAP = 2  # pixels of white between frames
RECORDING_SIZE = (320, 240)  # a view's frames are shrunk to this (a scenario camera's keep their size)


def first_frames(scenario: m.Scenario, n: int, seed: int, camera: str) -> list[np.ndarray]:
    """The first frame of episodes reset with seeds `seed` .. `seed + n - 1`, from `camera` (a
    scenario camera's name, or a view of the recording camera)."""
    from PIL import Image  # matplotlib's dependency; only here

    env = ScenarioEnv(scenario, seed=seed, render_mode="rgb_array", camera=camera)
    named = any(c.name == camera for c in scenario.cameras)
    frames = []
    try:
        for i in range(n):
            env.reset(seed=seed + i)
            frame = np.asarray(env.render())
            if not named:
                frame = np.asarray(Image.fromarray(frame).resize(RECORDING_SIZE, Image.Resampling.BILINEAR))
            frames.append(frame)
    finally:
        env.close()
    return frames


def tile(frames: list[np.ndarray]) -> np.ndarray:
    """The frames in a grid as square as it goes, row by row, on white."""
    height, width = frames[0].shape[:2]
    columns = math.ceil(math.sqrt(len(frames)))
    rows = math.ceil(len(frames) / columns)
    sheet = np.full((rows * (height + GAP) + GAP, columns * (width + GAP) + GAP, 3), 255, dtype=np.uint8)
    for i, frame in enumerate(frames):
        row, column = divmod(i, columns)
        top, left = GAP + row * (height + GAP), GAP + column * (width + GAP)
        sheet[top:top + height, left:left + width] = frame[..., :3]
    return sheet


def write_sheet(scenario: m.Scenario, n: int, seed: int, camera: str, out: Path) -> tuple[int, int]:
    """Render and write the sheet as a PNG; its (width, height) in pixels."""
    from PIL import Image

    sheet = tile(first_frames(scenario, n, seed, camera))
    Image.fromarray(sheet).save(out, format="PNG")
    return sheet.shape[1], sheet.shape[0]
