"""The compiled scenario at run time: the Gymnasium env (`env`), vector envs (`vec_env`), the
gym ids (`registration`) and the environment checks behind `scn check` (`envcheck`)."""
