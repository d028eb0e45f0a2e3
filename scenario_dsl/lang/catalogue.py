"""Catalogues the command line reads when it builds its arguments, kept free of pydantic so that
`scn --version` and `scn lint` start fast: the training algorithms and the camera views.
`lang.model` re-exports them; the language's other catalogues live beside what uses them
(docs/architecture.md, "Where to add")."""

from __future__ import annotations

#: The named views of the recording camera (`scn eval --video --camera VIEW`; compiler/camera.py
#: says where each looks).
CAMERA_VIEWS = ("auto", "front", "side", "top", "iso")

#: The images a scenario's `camera` gives (`observation pixels = CAM.color`) -> what each is:
#: Drake's `RgbdSensor` outputs, as a Gymnasium `Box` (dtype, channels).
CAMERA_IMAGES: dict[str, tuple[str, int]] = {
    "color": ("uint8", 3),  # red, green, blue, 0 to 255
    "depth": ("float32", 1),  # metres along the optical axis; beyond the far clipping plane: inf
    "label": ("int16", 1),  # the render label of the body seen (its index), or Drake's reserved labels
}

#: The training algorithms a `train` block or `scn train --algo` may name -> (package, class): the
#: one list of them (the validator, the command line and `train.hyperparams` read it).
ALGORITHMS: dict[str, tuple[str, str]] = {
    "ppo": ("stable_baselines3", "PPO"),
    "a2c": ("stable_baselines3", "A2C"),
    "sac": ("stable_baselines3", "SAC"),
    "td3": ("stable_baselines3", "TD3"),
    "ddpg": ("stable_baselines3", "DDPG"),
    "trpo": ("sb3_contrib", "TRPO"),
    "ars": ("sb3_contrib", "ARS"),
    "tqc": ("sb3_contrib", "TQC"),
}
