"""Exported policies (`scn export`): a run's policy as one small stable-baselines3 zip, to ship
and to evaluate without the run directory.

The zip is the algorithm's own (`SAC.load(path)` reads it), trimmed to what acting needs: the
optimizers' states are emptied and the critics' weights zeroed (they compress to nothing), and
it is written compressed. It also holds `scn.json`: the algorithm, the run's training settings,
the scenario it was trained on, its spaces, and the observation normalization (`VecNormalize`'s
running mean and variance, as numbers, not a pickle). Training cannot continue from it (its
critic is gone).

Loading it (`load_exported`) unpickles nothing: stable-baselines3's `load` would cloudpickle-load
the zip's `data` (code, for a zip someone else made), so scn builds a fresh model from the
settings in scn.json and the spaces of the scenario it is evaluated in, and reads only the
weights (`torch.load(weights_only=True)`). A zip from elsewhere is therefore safe to evaluate.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scenario_dsl.train import rundir
from scenario_dsl.train.hyperparams import TrainConfig, algorithm_class, algorithm_kwargs

SCN_MEMBER = "scn.json"
FORMAT = "scn.policy/1"
#: state-dict key prefixes of the value side of a policy, which acting never reads
#: (SAC, TD3, TQC, DDPG: critics; PPO, A2C, TRPO: the value network)
CRITIC_PREFIXES = ("critic.", "critic_target.", "value_net.", "mlp_extractor.value_net.")


@dataclass
class ObservationNormalizer:
    """`VecNormalize.normalize_obs` from its saved statistics (what `make_policy` calls)."""

    mean: np.ndarray
    var: np.ndarray
    clip_obs: float
    epsilon: float

    def normalize_obs(self, observation: np.ndarray) -> np.ndarray:
        scaled = (observation - self.mean) / np.sqrt(self.var + self.epsilon)
        return np.asarray(np.clip(scaled, -self.clip_obs, self.clip_obs), dtype=np.float32)


def export_policy(model: Any, vec_normalize: Any | None, *, config: dict[str, Any], scenario: str, source: str,
                  out: Path, action_bounds: tuple[list[float], list[float]] | None = None) -> int:
    """Write `model` trimmed to acting, with `scn.json`, to `out`; returns its size in bytes.
    A policy that observes images is refused (`RunDirError`): its run's model.zip is the policy."""
    import torch  # the model is torch's: loaded already

    if len(getattr(model.observation_space, "shape", None) or ()) != 1:
        raise rundir.RunDirError("scn export writes policies that observe vectors; this one observes images "
                                 "(evaluate its run's best/model.zip with `scn eval`)", path=source)

    with tempfile.TemporaryDirectory() as folder:
        full = Path(folder) / "model.zip"
        model.save(full)
        members: dict[str, bytes] = {}
        with zipfile.ZipFile(full) as archive:
            for name in archive.namelist():
                data = archive.read(name)
                if name == "policy.pth":
                    state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
                    state = {k: torch.zeros_like(v) if k.startswith(CRITIC_PREFIXES) else v for k, v in state.items()}
                    data = _saved(torch, state)
                elif name.endswith("optimizer.pth"):
                    state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
                    data = _saved(torch, {**state, "state": {}})  # a fresh optimizer's state
                members[name] = data
    normalizer = None
    if vec_normalize is not None and getattr(vec_normalize, "norm_obs", False):
        rms = vec_normalize.obs_rms
        normalizer = {"mean": np.asarray(rms.mean).tolist(), "var": np.asarray(rms.var).tolist(),
                      "clip_obs": float(vec_normalize.clip_obs), "epsilon": float(vec_normalize.epsilon)}
    spaces = {"observation_shape": list(model.observation_space.shape),
              "action_low": np.asarray(model.action_space.low).tolist(),
              "action_high": np.asarray(model.action_space.high).tolist()}
    if action_bounds is not None:  # what the normalized actions mean: `scn eval --scenario` compares them
        spaces["action_bounds"] = {"lower": list(action_bounds[0]), "upper": list(action_bounds[1])}
    members[SCN_MEMBER] = json.dumps({"format": FORMAT, "algo": config["algo"], "config": config, **spaces,
                                      "scenario": scenario, "source": source, "normalize_observations": normalizer},
                                     indent=2).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    partial = out.with_name(f".{out.name}.tmp")  # renamed into place: `out` is never half written
    partial.write_bytes(buffer.getvalue())
    partial.replace(out)
    return len(buffer.getvalue())


def _saved(torch: Any, state: Any) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def exported_info(path: Path) -> dict[str, Any] | None:
    """`scn.json` of an exported policy; None for any other file (a run's model.zip)."""
    if not path.is_file() or not zipfile.is_zipfile(path):
        return None
    with zipfile.ZipFile(path) as archive:
        if SCN_MEMBER not in archive.namelist():
            return None
        try:
            info = json.loads(archive.read(SCN_MEMBER))
        except (ValueError, UnicodeDecodeError):
            info = None
    wanted = ("algo", "config", "observation_shape", "action_low", "action_high")
    if not isinstance(info, dict) or info.get("format") != FORMAT or any(k not in info for k in wanted):
        raise rundir.RunDirError(f"not an exported policy of this scn (expected \"format\": \"{FORMAT}\" and "
                                 f"{', '.join(wanted)} in {SCN_MEMBER})", path=str(path))
    return info


def load_exported(path: Path, env: Any, device: str = "auto") -> Any:
    """The exported policy at `path` as a model acting in `env`'s spaces, without unpickling:
    a fresh model from the run's settings, then the zip's weights (`weights_only`). Raises
    `ValueError` when the spaces or the weights do not fit."""
    from stable_baselines3.common.save_util import load_from_zip_file

    info = exported_info(path)
    assert info is not None
    same = (list(env.observation_space.shape) == info["observation_shape"]
            and np.array_equal(env.action_space.low, info["action_low"])
            and np.array_equal(env.action_space.high, info["action_high"]))
    if not same:
        raise ValueError(f"the policy acts on observations of shape {tuple(info['observation_shape'])} and actions "
                         f"in [{info['action_low']}, {info['action_high']}]; this scenario's differ")
    config = TrainConfig.from_json(info["config"])
    kwargs = algorithm_kwargs(config, env.action_space)
    kwargs.pop("action_noise", None)
    if config.off_policy:
        kwargs["buffer_size"] = 1  # acting needs no replay buffer
    model = algorithm_class(config.algo)("MlpPolicy", env, device=device, **kwargs)
    _, params, _ = load_from_zip_file(path, load_data=False, device=device)
    try:
        model.policy.load_state_dict(params["policy"])
    except (KeyError, RuntimeError) as exc:
        raise ValueError(f"its weights do not fit the network its settings describe: {str(exc).splitlines()[0]}") \
            from None
    return model


def normalizer_of(info: dict[str, Any]) -> ObservationNormalizer | None:
    saved = info.get("normalize_observations")
    if not saved:
        return None
    return ObservationNormalizer(np.asarray(saved["mean"]), np.asarray(saved["var"]), saved["clip_obs"],
                                 saved["epsilon"])
