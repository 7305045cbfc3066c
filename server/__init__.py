"""Production hardening for the Rasa server and the action server.

    python -m server run <rasa run arguments>          # hardened Rasa server
    python -m server actions <rasa run actions args>   # action server, bound to 127.0.0.1
    python -m server purge [--dry-run]                 # delete data past its retention period

See docs/deployment.md and docs/privacy.md.
"""
