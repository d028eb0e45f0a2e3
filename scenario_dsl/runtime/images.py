"""Image observations (`observation pixels = CAM.color`): their Gymnasium spaces, and reading
them from a diagram's camera ports after each step.

A scenario with images observes a `Dict`: each image under its observation's name, and the
vector observations, concatenated in declaration order as ever, under "state". With images
only, one image is a plain `Box` (what SB3's `CnnPolicy` takes) and several a `Dict` of them.
Colour is uint8 H x W x 3 (channels last: SB3 moves them first itself), depth float32 H x W x 1
in metres (what lies beyond the far clipping plane, which Drake reports as infinity, reads as the
far distance: learners' NaN and infinity checks refuse infinities), label int16 H x W x 1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from scenario_dsl.lang import model as m

STATE_KEY = "state"  # the vector observations' key in a Dict observation


def image_space(camera: m.Camera, image: str) -> gym.spaces.Box:
    shape = (camera.height, camera.width, 3 if image == "color" else 1)
    if image == "color":
        return gym.spaces.Box(0, 255, shape, dtype=np.uint8)
    if image == "depth":
        return gym.spaces.Box(0.0, camera.far, shape, dtype=np.float32)
    return gym.spaces.Box(np.iinfo(np.int16).min, np.iinfo(np.int16).max, shape, dtype=np.int16)


def observation_space(scenario: m.Scenario, state: gym.spaces.Box) -> gym.spaces.Space[Any]:
    """The agent's observation space: `state` alone, or with the images (see the module's docstring)."""
    if not scenario.images:
        return state
    cameras = {c.name: c for c in scenario.cameras}
    spaces: dict[str, gym.spaces.Space[Any]] = {i.name: image_space(cameras[i.camera], i.image)
                                                for i in scenario.images}
    if state.shape[0] > 0:
        spaces[STATE_KEY] = state
    if len(spaces) == 1:
        return next(iter(spaces.values()))
    return gym.spaces.Dict(spaces)


class ImageReader:
    """Reads the observed images from a diagram's output ports and composes the observation."""

    def __init__(self, scenario: m.Scenario, diagram: Any, ports: dict[str, str]) -> None:
        far = {c.name: c.far for c in scenario.cameras}
        self.images = [(i.name, i.image, diagram.GetOutputPort(ports[i.name]), far[i.camera]) for i in scenario.images]
        self.with_state = scenario.observation_size > 0

    def compose(self, state: np.ndarray, context: Any,
                noise: Callable[[str], np.ndarray | None] | None = None) -> Any:
        """The observation: `state` and the images rendered in `context` now, with this step's
        noise (`noise(name)`: drawn per pixel, `randomize per step { pixels.noise ~ ... }`) added
        and clipped to the image's range (colour 0 to 255, depth 0 to far)."""
        observed: dict[str, np.ndarray] = {}
        for name, image, port, far in self.images:
            data = port.Eval(context).data
            drawn = noise(name) if noise is not None else None
            if image == "depth":
                depth = np.minimum(data, np.float32(far))  # a copy; inf (too far) becomes `far`
                if drawn is not None:
                    depth = np.clip(depth + drawn.reshape(depth.shape), 0.0, far).astype(np.float32)
                observed[name] = depth
            elif image == "color" and drawn is not None:
                noisy = data[:, :, :3].astype(np.float64) + drawn.reshape(data.shape[0], data.shape[1], 3)
                observed[name] = np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
            else:
                observed[name] = np.array(data[:, :, :3] if image == "color" else data, copy=True)
        if self.with_state:
            observed[STATE_KEY] = state
        if len(observed) == 1:
            return next(iter(observed.values()))
        return observed
