"""Drawing a scenario's randomization without simulating: `Sampler` draws the `randomize`
blocks of a scope for many episodes at once, with NumPy; the compiler writes its draws into a
Drake context and `scn sample` summarizes them."""

from scenario_dsl.sampling.sampler import MAX_TRIES, DrawError, Sampler, Samples, SamplingError, Value

__all__ = ["MAX_TRIES", "DrawError", "Sampler", "Samples", "SamplingError", "Value"]
