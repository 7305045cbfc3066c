"""rasa-sdk action server: one module per capability, thin glue over credit/."""
from credit.text.masking import install_log_masking

install_log_masking()
