"""Training on a scenario with stable-baselines3: hyperparameters (`hyperparams`), runs
(`training`, `callbacks`, `rundir`), evaluation and recordings (`evaluation`), curves
(`plotting`)."""
