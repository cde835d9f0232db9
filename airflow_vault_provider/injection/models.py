"""Cheap construction and copying of `kubernetes` client models.

Each model constructor deep-copies the client's default `Configuration` unless it is
given one, which costs about 20 us a model (measured with `bench/model_construction.py`),
several times the rest of an injection. All models built here share one configuration
instead. It is only read, for client-side validation of field values.

The pieces an injection adds depend mostly on the settings, not on the pod. They are built
once per settings as a `Prototype` and cloned for each pod. A clone is a new object tree
that shares no mutable part, made without running the constructors again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from kubernetes.client import Configuration

_SHARED_CONFIGURATION = Configuration()

Model = TypeVar("Model")


def build(model_class: Callable[..., Model], **fields: Any) -> Model:
    """Return ``model_class(**fields)`` without copying the default configuration."""
    return model_class(local_vars_configuration=_SHARED_CONFIGURATION, **fields)


def shallow_copy(model: Model) -> Model:
    """Return a copy of ``model`` that shares its field values, for copy-on-write edits."""
    model_class = type(model)
    copied = model_class.__new__(model_class)
    copied.__dict__.update(model.__dict__)
    return copied


def _is_model(value: object) -> bool:
    return hasattr(type(value), "openapi_types")


class Prototype(Generic[Model]):
    """A model tree built once; `new()` returns an independent copy of it."""

    __slots__ = ("_children", "_model_class", "_state")

    def __init__(self, model: Model) -> None:
        self._model_class = type(model)
        self._state = dict(model.__dict__)
        # Fields whose values are mutable (models, lists, dicts) get a fresh value per
        # copy. The shared Configuration is the one field deliberately left shared.
        self._children: list[tuple[str, Callable[[], Any]]] = []
        for field, value in self._state.items():
            if _is_model(value):
                self._children.append((field, Prototype(value).new))
            elif isinstance(value, list):
                self._children.append((field, _list_copier(value)))
            elif isinstance(value, dict):
                self._children.append((field, _dict_copier(value)))

    def new(self) -> Model:
        copied: Model = self._model_class.__new__(self._model_class)
        state = copied.__dict__
        state.update(self._state)
        for field, make in self._children:
            state[field] = make()
        return copied


def _list_copier(items: list[Any]) -> Callable[[], list[Any]]:
    if not any(_is_model(item) for item in items):
        return items.copy
    makers = [Prototype(item).new if _is_model(item) else _constant(item) for item in items]
    return lambda: [make() for make in makers]


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value


def _dict_copier(mapping: dict[Any, Any]) -> Callable[[], dict[Any, Any]]:
    if any(_is_model(value) or isinstance(value, (list, dict)) for value in mapping.values()):
        raise TypeError("nested containers inside a dict field are not supported by Prototype")
    return mapping.copy
