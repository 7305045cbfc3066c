"""Operations retraining workflow: `python -m ops <step>` (see docs/ops.md, 运营手册)."""
