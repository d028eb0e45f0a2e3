"""Training settings: the algorithm table and the merge of a scenario's `train` block with the
command line into one checked `TrainConfig`.

Precedence, lowest first: stable-baselines3's defaults < the lecture's defaults (PPO, MLP 64x64)
< the file's `train` block < `--set KEY=VALUE` < the dedicated flags (`--algo`, `--timesteps`,
`--n-envs`, `--seed`, `--device`). Every key is checked against the algorithm's constructor (or
its policy's, or the run settings below) and its value against the constructor's type hints,
before any environment is built; a bad key or value raises `ConfigError` with a one-line message.

`TrainConfig` is plain JSON (it is saved in the run directory); `algorithm_kwargs` turns it into
the keyword arguments of the algorithm's constructor (schedules, action noise, activation).
"""

from __future__ import annotations

import ast as pyast
import inspect
import json
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any

from scenario_dsl.lang.diagnostics import ScnError
from scenario_dsl.lang.limits import MAX_WORLDS
from scenario_dsl.lang.model import ALGORITHMS, Train
from scenario_dsl.support.suggest import did_you_mean

#: algorithm name -> (module, class). TRPO, ARS and TQC come from sb3-contrib.
#: algorithms whose policies output a continuous action only (a `Box` action space).
CONTINUOUS_ONLY = frozenset({"sac", "td3", "ddpg", "tqc"})
#: algorithms with a replay buffer (saved with every checkpoint).
OFF_POLICY = frozenset({"sac", "td3", "ddpg", "tqc"})

ACTIVATIONS = {"tanh": "Tanh", "relu": "ReLU", "elu": "ELU", "leaky_relu": "LeakyReLU", "gelu": "GELU",
               "silu": "SiLU"}
NOISE_TYPES = ("normal", "ornstein-uhlenbeck")

#: Settings of the run itself (not of the algorithm), with their types. `None` defaults are
#: filled from `n_timesteps` by `resolve`.
RUN_KEYS: dict[str, Any] = {
    "n_timesteps": int, "n_envs": int, "worlds": int, "seed": int, "normalize": bool, "net_arch": list[int],
    "activation": str, "eval_freq": int, "eval_episodes": int, "save_freq": int, "keep_checkpoints": int,
    "noise_type": str, "noise_std": float, "ray": str, "cpus_per_worker": float,
}
#: Constructor arguments scn sets itself, never the user.
RESERVED = frozenset({"self", "policy", "env", "tensorboard_log", "policy_kwargs", "verbose", "seed", "device",
                      "_init_setup_model", "rollout_buffer_class", "rollout_buffer_kwargs", "replay_buffer_class",
                      "replay_buffer_kwargs", "action_noise"})
#: Policy arguments that are not numbers, flags or words (classes, spaces), or are set elsewhere.
POLICY_RESERVED = frozenset({"self", "observation_space", "action_space", "lr_schedule", "net_arch", "activation_fn",
                             "features_extractor_class", "features_extractor_kwargs", "optimizer_class",
                             "optimizer_kwargs", "normalize_images", "use_sde"})


class ConfigError(ScnError, ValueError):
    """A training setting is unknown or has the wrong type (SCN601, a usage error: exit 2)."""

    code = "SCN601"
    exit_code = 2


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a training run, as JSON values (`run.json` stores `asdict(config)`)."""

    algo: str = "ppo"
    n_timesteps: int = 1_000_000
    n_envs: int = 1
    worlds: int = 1  # worlds per environment process: n_envs x worlds environments in all
    seed: int = 0
    normalize: bool = False
    net_arch: list[int] = field(default_factory=lambda: [64, 64])
    activation: str | None = None
    eval_freq: int = 10_000
    eval_episodes: int = 5
    save_freq: int = 10_000
    keep_checkpoints: int = 3
    noise_type: str | None = None
    noise_std: float = 0.1
    device: str = "auto"
    ray: str | None = None  # env workers as Ray actors: "local" (Ray started in the run), "auto" or an address
    cpus_per_worker: float = 1.0  # the CPUs each Ray env worker asks for
    hyperparams: dict[str, Any] = field(default_factory=dict)  # the algorithm's own arguments
    policy_kwargs: dict[str, Any] = field(default_factory=dict)  # the policy's, besides net_arch/activation

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TrainConfig:
        return cls(**dict(data))

    @property
    def total_envs(self) -> int:
        """How many environments the learner steps at once: `n_envs` processes x `worlds`."""
        return self.n_envs * self.worlds

    @property
    def off_policy(self) -> bool:
        return self.algo in OFF_POLICY


@dataclass(frozen=True)
class Setting:
    """One `KEY=VALUE` with where it came from (for messages)."""

    key: str
    value: Any
    origin: str


def algorithm_class(algo: str) -> Any:
    """The stable-baselines3 / sb3-contrib class of `algo` (imports it)."""
    import importlib

    if algo not in ALGORITHMS:
        raise ConfigError(f"unknown algorithm {algo!r}; expected one of {', '.join(ALGORITHMS)}")
    module, name = ALGORITHMS[algo]
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as exc:
        raise ConfigError(f"algorithm {algo} needs the {module.replace('_', '-')} package ({exc})") from None


def parse_set(text: str) -> tuple[str, Any]:
    """`KEY=VALUE` from `--set`: the value is JSON or a Python literal (`1e-3`, `[64, 64]`, `true`),
    else a word (`tanh`, `lin_3e-4`)."""
    key, eq, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not eq or not key.isidentifier() or not raw:
        raise ConfigError(f"--set expects KEY=VALUE (e.g. learning_rate=1e-3), got {text!r}")
    return key, parse_value(raw)


def parse_value(raw: str) -> Any:
    """A command-line value as JSON, a Python literal, `true`/`false`, or else the string itself."""
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return json.loads(raw)
    except ValueError:
        pass
    try:
        return pyast.literal_eval(raw)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return raw


def resolve(train: Train | None, sets: Iterable[tuple[str, Any]] = (), *, algo: str | None = None,
            n_timesteps: int | None = None, n_envs: int | None = None, worlds: int | None = None,
            seed: int | None = None, device: str = "auto", ray: str | None = None,
            source: str = "the train block",
            ) -> tuple[TrainConfig, list[str]]:
    """The checked configuration and notes for the user (e.g. hyperparameters dropped because
    `--algo` names another algorithm than the file's). Raises `ConfigError`."""
    notes: list[str] = []
    block = train or Train()
    set_list = list(sets)
    set_algo = next((v for k, v in reversed(set_list) if k == "algo"), None)
    chosen = algo or set_algo or block.algo
    if not isinstance(chosen, str) or chosen not in ALGORITHMS:
        raise ConfigError(f"unknown algorithm {chosen!r}; expected one of {', '.join(ALGORITHMS)}")
    settings: list[Setting] = []
    if train is not None:
        for key in ("n_timesteps", "n_envs", "worlds", "normalize", "net_arch", "seed"):
            value = getattr(train, key)
            if value is not None and key in train.model_fields_set:
                settings.append(Setting(key, value, source))
        if train.algo != chosen and train.hyperparams:
            notes.append(f"{source} sets hyperparameters for {train.algo}, not {chosen}; ignored: "
                         + ", ".join(sorted(train.hyperparams)))
        else:
            settings += [Setting(k, v, source) for k, v in train.hyperparams.items()]
    settings += [Setting(k, v, "--set") for k, v in set_list if k != "algo"]
    for key, value in (("n_timesteps", n_timesteps), ("n_envs", n_envs), ("worlds", worlds), ("seed", seed)):
        if value is not None:
            settings.append(Setting(key, value, f"--{key.removeprefix('n_').replace('_', '-')}"))

    algo_params, policy_params = _algorithm_parameters(chosen), _policy_parameters(chosen)
    run: dict[str, Any] = {}
    hyper: dict[str, Any] = {}
    policy: dict[str, Any] = {}
    for s in settings:
        if s.key in RUN_KEYS:
            run[s.key] = _check(s, RUN_KEYS[s.key], chosen)
        elif s.key in algo_params:
            hyper[s.key] = _check(s, algo_params[s.key], chosen)
        elif s.key in policy_params:
            policy[s.key] = _check(s, policy_params[s.key], chosen)
        else:
            known = sorted({*RUN_KEYS, *algo_params, *policy_params})
            hint = "; " + (did_you_mean(s.key, known) or f"known: {', '.join(known)}")
            raise ConfigError(f"`{s.key}` (from {s.origin}) is not a setting of {chosen.upper()}{hint}")

    total = run.get("n_timesteps", block.n_timesteps)
    config = TrainConfig(
        algo=chosen, n_timesteps=total, n_envs=run.get("n_envs", block.n_envs),
        worlds=run.get("worlds", block.worlds),
        seed=run["seed"] if "seed" in run else _entropy_seed(),
        normalize=run.get("normalize", False), net_arch=run.get("net_arch", [64, 64]),
        activation=run.get("activation"),
        eval_freq=run.get("eval_freq", max(1, total // 20)),
        eval_episodes=run.get("eval_episodes", 5),
        save_freq=run.get("save_freq", max(1, total // 10)),
        keep_checkpoints=run.get("keep_checkpoints", 3),
        noise_type=run.get("noise_type"), noise_std=run.get("noise_std", 0.1),
        device=device, ray=ray or run.get("ray"), cpus_per_worker=run.get("cpus_per_worker", 1.0),
        hyperparams=hyper, policy_kwargs=policy)
    _check_ranges(config)
    return config, notes


def _check_ranges(c: TrainConfig) -> None:
    for key in ("n_timesteps", "n_envs", "worlds", "eval_episodes", "save_freq", "keep_checkpoints"):
        if getattr(c, key) < 1:
            raise ConfigError(f"`{key}` must be at least 1, got {getattr(c, key)}")
    if c.worlds > MAX_WORLDS:
        raise ConfigError(f"`worlds` must be at most {MAX_WORLDS} (worlds in one process), got {c.worlds}")
    if c.cpus_per_worker <= 0:
        raise ConfigError(f"`cpus_per_worker` must be more than 0, got {c.cpus_per_worker}")
    if c.ray is not None and not c.ray.strip():
        raise ConfigError("`ray` must be local, auto or a cluster address such as 10.0.0.5:6379")
    if c.eval_freq < 0:
        raise ConfigError(f"`eval_freq` must be 0 (no evaluation) or more, got {c.eval_freq}")
    if c.seed < 0:
        raise ConfigError(f"`seed` must be 0 or more, got {c.seed}")
    if not c.net_arch or any(n < 1 for n in c.net_arch):
        raise ConfigError(f"`net_arch` must list layer sizes of at least 1, got {c.net_arch}")
    if c.activation is not None and c.activation not in ACTIVATIONS:
        raise ConfigError(f"`activation` must be one of {', '.join(ACTIVATIONS)}, got {c.activation!r}")
    if c.noise_type is not None:
        if c.algo not in OFF_POLICY:
            raise ConfigError(f"`noise_type` (action noise) applies to {', '.join(sorted(OFF_POLICY))}, "
                              f"not {c.algo}")
        if c.noise_type not in NOISE_TYPES:
            raise ConfigError(f"`noise_type` must be one of {', '.join(NOISE_TYPES)}, got {c.noise_type!r}")
    if c.device not in ("auto", "cpu", "cuda") and not c.device.startswith("cuda:"):
        raise ConfigError(f"--device must be cpu, cuda or auto, got {c.device!r}")


def check_spaces(config: TrainConfig, action_space: Any) -> None:
    """Refuse an algorithm that cannot act in `action_space` (SAC on a discrete action, ...)."""
    from gymnasium import spaces

    if config.algo in CONTINUOUS_ONLY and not isinstance(action_space, spaces.Box):
        raise ConfigError(f"{config.algo.upper()} needs a continuous (Box) action space; this scenario's is "
                          f"{type(action_space).__name__}: use ppo, a2c, trpo or ars")
    if config.noise_type is not None and not isinstance(action_space, spaces.Box):
        raise ConfigError("action noise needs a continuous (Box) action space")


def algorithm_kwargs(config: TrainConfig, action_space: Any = None) -> dict[str, Any]:
    """The keyword arguments of the algorithm's constructor (besides policy, env, seed, device):
    typed values, `lin_X` schedules as functions, the policy's `net_arch`/activation, action noise."""
    params, policy_params = _algorithm_parameters(config.algo), _policy_parameters(config.algo)
    kwargs = {k: _typed(v, params[k]) for k, v in config.hyperparams.items()}
    policy: dict[str, Any] = {k: _typed(v, policy_params[k]) for k, v in config.policy_kwargs.items()}
    policy["net_arch"] = list(config.net_arch)
    if config.activation is not None:
        import torch

        policy["activation_fn"] = getattr(torch.nn, ACTIVATIONS[config.activation])
    kwargs["policy_kwargs"] = policy
    if config.noise_type is not None and action_space is not None:
        import numpy as np
        from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise

        n = action_space.shape[-1]
        noise = NormalActionNoise if config.noise_type == "normal" else OrnsteinUhlenbeckActionNoise
        kwargs["action_noise"] = noise(mean=np.zeros(n), sigma=config.noise_std * np.ones(n))
    return kwargs


# ---- type checking against the constructors' hints ---------------------------------------------

def _check(s: Setting, hint: Any, algo: str) -> Any:
    """The value of `s` checked against `hint`, returned as JSON (what the config stores)."""
    from pydantic import TypeAdapter, ValidationError

    value = s.value
    if _is_schedule_string(value) and _accepts_callable(hint):
        return value
    if hint in (bool, int, float) and isinstance(value, bool) != (hint is bool):
        # pydantic would turn True into 1 and "yes" into True; a flag and a number are not interchangeable
        raise ConfigError(f"`{s.key}` = {s.value!r} (from {s.origin}) is not valid for {algo.upper()}: "
                          f"expected {_describe(hint)}")
    try:
        checked = TypeAdapter(hint).validate_python(value)
    except ValidationError as exc:
        error = exc.errors()[0]["msg"][0].lower() + exc.errors()[0]["msg"][1:]
        raise ConfigError(f"`{s.key}` = {s.value!r} (from {s.origin}) is not valid for {algo.upper()}: "
                          f"expected {_describe(hint)} ({error})") from None
    except Exception:  # a hint pydantic cannot build a validator for: pass the value as given
        return s.value
    return json.loads(json.dumps(checked, default=str)) if not callable(checked) else s.value


def _typed(value: Any, hint: Any) -> Any:
    """The constructor argument for a stored JSON value: schedules become functions, lists become
    tuples where the hint says tuple."""
    from pydantic import TypeAdapter

    if _is_schedule_string(value):
        start = float(value[4:])
        return lambda progress_remaining: progress_remaining * start
    try:
        return TypeAdapter(hint).validate_python(value)
    except Exception:
        return value


def _is_schedule_string(value: Any) -> bool:
    if not (isinstance(value, str) and value.startswith("lin_")):
        return False
    try:
        float(value[4:])
    except ValueError:
        return False
    return True


def _accepts_callable(hint: Any) -> bool:
    return "Callable" in str(hint)


def _describe(hint: Any) -> str:
    text = getattr(hint, "__name__", None) if isinstance(hint, type) else None
    text = text or str(hint).replace("typing.", "").replace("collections.abc.", "")
    return text.replace("Callable[[float], float]", "schedule (lin_<start>)")


@cache
def _algorithm_parameters(algo: str) -> dict[str, Any]:
    """Constructor argument -> type hint, for the arguments a user may set."""
    cls = algorithm_class(algo)
    return {name: hint for name, hint in _hints(cls, cls.__init__).items() if name not in RESERVED}


@cache
def _policy_parameters(algo: str) -> dict[str, Any]:
    cls = algorithm_class(algo)
    policy: Any = cls.policy_aliases.get("MlpPolicy")
    if policy is None:
        return {}
    algo_params = _algorithm_parameters(algo)
    return {name: hint for name, hint in _hints(policy, policy.__init__).items()
            if name not in POLICY_RESERVED and name not in algo_params}


def _hints(owner: type, function: Callable[..., Any]) -> dict[str, Any]:
    """Each parameter's type hint, evaluated one at a time in the defining module (stable-baselines3
    names some types only under TYPE_CHECKING; an unresolvable hint becomes `Any`)."""
    import stable_baselines3.common.type_aliases as aliases
    from stable_baselines3.common.vec_env import VecEnv

    namespace = {**vars(aliases), **vars(sys.modules[owner.__module__]), "VecEnv": VecEnv}
    out: dict[str, Any] = {}
    for name, p in inspect.signature(function).parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        hint = p.annotation
        if isinstance(hint, str):
            try:
                hint = eval(hint, namespace)  # annotations are source text under `from __future__ import annotations`
            except Exception:
                hint = Any
        out[name] = Any if hint is inspect.Parameter.empty else hint
    return out


def _entropy_seed() -> int:
    import secrets

    return secrets.randbelow(2**31)
