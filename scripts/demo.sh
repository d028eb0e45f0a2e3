#!/usr/bin/env bash
# The main job on a bundled scenario, end to end: lint and format-check the bundled scenarios,
# compile cart_pole to a Drake diagram, check its Gymnasium env, train PPO on it briefly
# (2 worker processes), evaluate the best model with a Meshcat recording, and plot the
# learning curve. A few minutes on 2 cores. Needs .venv (bash scripts/setup.sh).
# SCN_DEMO_TIMESTEPS=N trains longer or shorter (default 50000).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scn=.venv/bin/scn
scenario=scenarios/cart_pole.scn
out=build/demo
mkdir -p "$out"

echo "== scn lint, scn fmt --check: the bundled scenarios"
"$scn" lint scenarios/
"$scn" fmt --check scenarios/

echo "== scn compile $scenario"
"$scn" compile "$scenario" -o "$out"

echo "== scn check $scenario"
"$scn" check "$scenario" --steps 300

echo "== scn train $scenario"
run=$("$scn" train "$scenario" --timesteps "${SCN_DEMO_TIMESTEPS:-50000}" --n-envs 2 --seed 0 --no-progress)

echo "== scn eval $run"
"$scn" eval "$run" --episodes 10 --deterministic --record "$out/cart_pole.html"

echo "== scn plot $run"
"$scn" plot "$run" -o "$out/cart_pole_curve.png"

echo
echo "Done. Open $out/cart_pole.html in a browser (press play under Animation) and look at"
echo "$out/cart_pole_curve.png; the run, with its checkpoints and logs, is in $run."
