"""Rule-based entity extractor for the credit assistant (regex + cn2an).

Works on the raw message text (see :mod:`credit.entities`), so it is immune to
jieba's tokenisation ("借1万分12期" -> 借/1/万分/12/期).

config.yml::

    - name: nlu_components.credit_entities.CreditEntityExtractor
      # optional: only keep these entity types (default: all)
      # dimensions: [amount, term]
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import ENTITY_ATTRIBUTE_CONFIDENCE_TYPE  # "confidence_entity"
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from credit.entities import extract_all

ENTITY_TYPES = (
    "application_id",
    "id_last4",
    "phone_last4",
    "phone_number",
    "otp_code",
    "amount",
    "term",
    "product",
    "other_lender",
    "complaint_category",
    "ticket_number",
    "income",
    "monthly_debt",
    "purpose",
)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class CreditEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Adds application_id, id_last4, phone_last4, phone_number, otp_code,
    amount, term, product and complaint_category entities from regex + cn2an.
    """

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """The component's default config (see parent class for full docstring)."""
        return {
            # list of entity types to keep; None = all of ENTITY_TYPES
            "dimensions": None,
        }

    def __init__(self, config: Dict[str, Any]) -> None:
        self.component_config = config
        dims = config.get("dimensions")
        self._dimensions = set(dims) if dims else None

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CreditEntityExtractor:
        """Creates the component (see parent class for full docstring)."""
        return cls(config)

    @staticmethod
    def required_packages() -> List[str]:
        """Any extra python dependencies required for this component to run."""
        return ["cn2an"]

    def _entities_for(self, text: str | None) -> List[Dict[str, Any]]:
        entities = []
        for span in extract_all(text or ""):
            if self._dimensions is not None and span.entity not in self._dimensions:
                continue
            entities.append(
                {
                    ENTITY_ATTRIBUTE_TYPE: span.entity,
                    ENTITY_ATTRIBUTE_VALUE: span.value,
                    ENTITY_ATTRIBUTE_START: span.start,
                    ENTITY_ATTRIBUTE_END: span.end,
                    EXTRACTOR: self.name,
                    ENTITY_ATTRIBUTE_CONFIDENCE_TYPE: 1.0,
                }
            )
        return entities

    def process(self, messages: List[Message]) -> List[Message]:
        """Adds this extractor's entities to each message.

        Entities already on the message (e.g. from another extractor) are kept
        unless they overlap one of ours; our own earlier output is replaced, so
        running twice is idempotent.
        """
        for message in messages:
            new = self._entities_for(message.get(TEXT))
            kept = [
                e
                for e in message.get(ENTITIES, []) or []
                if e.get(EXTRACTOR) != self.name and not _overlaps_any(e, new)
            ]
            merged = sorted(
                kept + new,
                key=lambda e: (e.get(ENTITY_ATTRIBUTE_START) or 0, e.get(ENTITY_ATTRIBUTE_END) or 0),
            )
            message.set(ENTITIES, merged, add_to_output=True)
        return messages


def _overlaps_any(entity: Dict[str, Any], others: List[Dict[str, Any]]) -> bool:
    start = entity.get(ENTITY_ATTRIBUTE_START)
    end = entity.get(ENTITY_ATTRIBUTE_END)
    if start is None or end is None:
        return False
    return any(start < o[ENTITY_ATTRIBUTE_END] and o[ENTITY_ATTRIBUTE_START] < end for o in others)
