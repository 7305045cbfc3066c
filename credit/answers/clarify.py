"""What the assistant says when the NLU could not decide (``nlu_fallback``).

Rasa's FallbackClassifier (config.yml) fires for one of two reasons, and the reply differs:

* **two close intents** (the gap between the top two is under ``ambiguity_threshold``): ask which one it is,
  "您是想问「A」还是「B」？", one button per intent (payload ``/intent``) and a way out to a human;
* **nothing confident** (the top intent is under ``threshold``): the likeliest topics as a menu.

The classifier puts ``nlu_fallback`` first in the ranking with the confidence equal to its ``threshold``, so
the reason can be read off the ranking: it fired on ambiguity exactly when the classifier's own top intent is at
or above that confidence.  config.yml stays the one place for both thresholds.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence, Tuple

from credit.replies import Reply, button

FALLBACK = "nlu_fallback"
HUMAN = "request_human"
HUMAN_BUTTON = "都不是，转人工"


def _confidence(entry: Mapping[str, Any]) -> float:
    try:
        return float(entry.get("confidence") or 0.0)
    except (TypeError, ValueError):
        return 0.0


def ambiguous_pair(ranking: Sequence[Mapping[str, Any]], labels: Mapping[str, str]) -> Optional[Tuple[str, str]]:
    """The two intents the classifier could not tell apart, or None (low confidence, no ranking, or one of the
    two is not a topic a customer can pick, such as ``inform`` or ``greet``)."""
    if len(ranking) < 3 or ranking[0].get("name") != FALLBACK:
        return None
    first, second = ranking[1], ranking[2]
    if _confidence(first) < _confidence(ranking[0]):
        return None  # fired because the top intent was under the threshold, not because two were close
    names = (str(first.get("name")), str(second.get("name")))
    if names[0] == names[1] or not all(name in labels for name in names):
        return None
    return names


def clarification(pair: Tuple[str, str], labels: Mapping[str, str]) -> Reply:
    """ "您是想问「A」还是「B」？" with one button each (and a human, unless one of the two already is)."""
    first, second = pair
    buttons = [button(labels[first], first), button(labels[second], second)]
    if HUMAN not in pair:
        buttons.append(button(HUMAN_BUTTON, HUMAN))
    text = f"您是想问「{labels[first]}」还是「{labels[second]}」？点一下对应的选项，我马上为您解答。"
    return Reply(text, tuple(buttons))


def likeliest_topics(ranking: Sequence[Mapping[str, Any]], labels: Mapping[str, str]) -> Reply:
    """Nothing was confident: the two likeliest topics a customer can pick, then a human."""
    names = [str(r.get("name")) for r in ranking if r.get("name") in labels and r.get("name") != HUMAN][:2]
    buttons = [button(labels[name], name) for name in names] + [button(HUMAN_BUTTON, HUMAN)]
    return Reply("抱歉，我没完全理解您的意思。您是想咨询下面哪一项？也可以换个说法告诉我。", tuple(buttons))


def fallback_reply(ranking: Sequence[Mapping[str, Any]], labels: Mapping[str, str]) -> Reply:
    pair = ambiguous_pair(ranking, labels)
    return clarification(pair, labels) if pair else likeliest_topics(ranking, labels)
