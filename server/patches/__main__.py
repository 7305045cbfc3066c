"""``python -m server.patches``: the hardening steps and the Rasa members each touches."""
from __future__ import annotations

from server.patches import REGISTRY


def main() -> None:
    for patch in REGISTRY.values():
        print(f"{patch.name}: {patch.purpose}")
        for member in patch.members:
            print(f"    {member.how.value:8} {member.key}")


if __name__ == "__main__":
    main()
