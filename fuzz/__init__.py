"""Coverage-guided fuzzing of the verifier and e-form validation (atheris; ``make fuzz``)."""
