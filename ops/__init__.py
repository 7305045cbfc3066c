"""Operations retraining workflow: `python -m ops <step>` (see README.md「运营手册」, 运营手册)."""
