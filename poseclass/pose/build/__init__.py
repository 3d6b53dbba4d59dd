"""MoveNet provisioning: the model registry and cache (runtime-safe), and building models from
Google's TF.js weights (conversion and the int8 build, which need the ``train`` extra)."""
