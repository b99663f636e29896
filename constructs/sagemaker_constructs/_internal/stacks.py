"""Python-side answers to questions that each cost a Python-to-Node (jsii) call: which stack a
construct is in, a stack's partition/region/account, and the fixed attributes of a CDK object
(a key's ARN, a bucket's name). Every answer is the one CDK gives; it is remembered on the
Python object, so an app with many endpoints asks Node once per stack (or per object) instead of
once per endpoint (issue 11)."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from aws_cdk import Names, Stack, Token

_STACK = "_sagemaker_constructs_stack"
_ARN_PARTS = "_sagemaker_constructs_arn_parts"
_ATTRIBUTES = "_sagemaker_constructs_attributes"
_NAME_PATH = "_sagemaker_constructs_name_path"


def python_state(obj: Any) -> dict[str, Any] | None:
    """The Python object's own attributes (``vars``), or None for an object without them (a jsii
    interface proxy): where this library may keep a marker about a CDK object."""
    try:
        return vars(obj)
    except TypeError:  # no __dict__ (not a Python-side object)
        return None


def stack_of(construct: Any) -> Stack:
    """``Stack.of(construct)``, asked once per construct (and not at all for a construct that
    :func:`note_scope` saw created in a known stack)."""
    if isinstance(construct, Stack):
        return construct
    state = python_state(construct)
    stack = state.get(_STACK) if state is not None else None
    if stack is None:
        stack = Stack.of(construct)
        if state is not None:
            state[_STACK] = stack
    return stack


def note_scope(construct: Any, scope: Any, id: str | None = None) -> None:
    """Remember that ``construct`` was created directly in ``scope``: its stack is ``scope`` (a
    ``Stack``) or the stack already known for ``scope``; with ``id``, its name path too (see
    :func:`unique_resource_name`). Nothing is asked of Node."""
    state = python_state(construct)
    if state is None:
        return
    # An id with a path or address separator is stored sanitized by the constructs library (how
    # depends on its version): such a construct's name is left to CDK.
    if id is not None and _NAME_PATH not in state and "/" not in id and "\n" not in id:
        parent = _name_path(scope) if isinstance(scope, Stack) else (python_state(scope) or {}).get(_NAME_PATH)
        if parent is not None:
            state[_NAME_PATH] = (*parent, id)
    if _STACK in state:
        return
    if isinstance(scope, Stack):
        state[_STACK] = scope
        return
    known = python_state(scope)
    if known is not None and known.get(_STACK) is not None:
        state[_STACK] = known[_STACK]


def arn_parts(scope: Any) -> tuple[str, str, str]:
    """The partition, region and account of ``scope``'s stack (as ``Stack.format_arn`` uses them),
    read once per stack."""
    stack = stack_of(scope)
    state = vars(stack)
    parts = state.get(_ARN_PARTS)
    if parts is None:
        parts = state[_ARN_PARTS] = (stack.partition, stack.region, stack.account)
    return parts


def format_arn(scope: Any, service: str, resource: str, name: str, *, sep: str = "/") -> str:
    """``Stack.of(scope).format_arn(service=, resource=, resource_name=name)`` with ``sep`` between
    resource and name (``/``: ``ArnFormat.SLASH_RESOURCE_NAME``, ``:``: ``COLON_RESOURCE_NAME``):
    the same string (``Arn.format`` joins the same parts), without a call to Node."""
    partition, region, account = arn_parts(scope)
    return f"arn:{partition}:{service}:{region}:{account}:{resource}{sep}{name}"


def attribute(obj: Any, name: str) -> Any:
    """``getattr(obj, name)`` for an attribute CDK fixes when ``obj`` is constructed (``key_arn``,
    ``bucket_name``, ``bucket_arn``, ``encryption_key``), read from Node once per object."""
    state = python_state(obj)
    if state is None:
        return getattr(obj, name)
    cache = state.get(_ATTRIBUTES)
    if cache is None:
        cache = state[_ATTRIBUTES] = {}
    if name not in cache:
        cache[name] = getattr(obj, name)
    return cache[name]


def known_attribute(obj: Any, name: str) -> Any:
    """What :func:`attribute` has already read (or was told) of ``obj.name``, else None: no call."""
    state = python_state(obj)
    return (state.get(_ATTRIBUTES) or {}).get(name) if state is not None else None


def remember(obj: Any, name: str, value: Any) -> None:
    """Tell :func:`attribute` what ``obj.name`` is, known without asking (the object passed to
    the constructor that stores it)."""
    state = python_state(obj)
    if state is not None:
        state.setdefault(_ATTRIBUTES, {})[name] = value


# --- Names.uniqueResourceName, in Python --------------------------------------------------------
# aws-cdk-lib's core/lib/names.ts and private/unique-resource-name.ts: the components are the ids
# from the innermost top-level stack (one whose stackName is not a token), that stack given by its
# name; 'Default' ids are left out; the hash is the MD5 of the components joined by '/'.
_HIDDEN_ID = "Default"
_HIDDEN_FROM_HUMAN_ID = "Resource"
_HASH_LEN = 8


def _name_path(construct: Any) -> tuple[str, ...] | None:
    """The components ``Names.uniqueResourceName`` names ``construct`` by, when they are known
    without asking Node for its path: a top-level stack (its name, read once), or a construct
    :func:`note_scope` saw created with its id in such a stack or in a construct with a known
    path. None otherwise."""
    state = python_state(construct)
    if state is not None and _NAME_PATH in state:
        return state[_NAME_PATH]
    path = None
    if isinstance(construct, Stack):
        name = attribute(construct, "stack_name")
        path = None if Token.is_unresolved(name) else (name,)  # a nested stack's name is a token
    if state is not None:
        state[_NAME_PATH] = path
    return path


def unique_resource_name(construct: Any, *, max_length: int = 256, separator: str = "") -> str:
    """``Names.unique_resource_name(construct, max_length=, separator=)``: the same string, worked
    out in Python when the construct's path is known (:func:`_name_path`), else asked of CDK."""
    path = _name_path(construct)
    if path is None:
        return Names.unique_resource_name(construct, max_length=max_length, separator=separator)
    components = [c for c in path if c != _HIDDEN_ID]
    if not components:
        raise ValueError("Unable to calculate a unique resource name for an empty set of components")
    clean = lambda text: re.sub(r"[^A-Za-z0-9]", "", text)  # noqa: E731
    if len(components) == 1 and len(clean(components[0])) <= max_length:
        return clean(components[0])
    digest = hashlib.md5("/".join(components).encode("utf-8")).hexdigest()[:_HASH_LEN].upper()  # noqa: S324 (CDK's hash)
    deduped: list[str] = []
    for component in components:  # removeDupes: a component the previous one ends with is left out
        if not deduped or not deduped[-1].endswith(component):
            deduped.append(component)
    parts = [clean(c) for c in deduped if c != _HIDDEN_FROM_HUMAN_ID]
    human = separator.join(p for p in parts if p) + separator
    limit = max_length - _HASH_LEN
    if len(human) > limit:
        half = int(limit / 2)  # JavaScript's slice truncates the fraction
        human = human[:half] + (human[-half:] if half else human)  # slice(-0) is the whole string
    return human + digest
