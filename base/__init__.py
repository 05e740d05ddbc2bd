"""The bottom layer: settings, errors, exit codes, shared vocabulary; depends on nothing of ours."""
