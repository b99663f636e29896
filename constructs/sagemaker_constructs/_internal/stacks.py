"""Python-side answers to questions that each cost a Python-to-Node (jsii) call: which stack a
construct is in, a stack's partition/region/account, and the fixed attributes of a CDK object
(a key's ARN, a bucket's name). Every answer is the one CDK gives; it is remembered on the
Python object, so an app with many endpoints asks Node once per stack (or per object) instead of
once per endpoint (issue 11)."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack

_STACK = "_sagemaker_constructs_stack"
_ARN_PARTS = "_sagemaker_constructs_arn_parts"
_ATTRIBUTES = "_sagemaker_constructs_attributes"


def _state(obj: Any) -> dict[str, Any] | None:
    try:
        return vars(obj)
    except TypeError:  # no __dict__ (not a Python-side object)
        return None


def stack_of(construct: Any) -> Stack:
    """``Stack.of(construct)``, asked once per construct (and not at all for a construct that
    :func:`note_scope` saw created in a known stack)."""
    if isinstance(construct, Stack):
        return construct
    state = _state(construct)
    stack = state.get(_STACK) if state is not None else None
    if stack is None:
        stack = Stack.of(construct)
        if state is not None:
            state[_STACK] = stack
    return stack


def note_scope(construct: Any, scope: Any) -> None:
    """Remember that ``construct`` was created directly in ``scope``: its stack is ``scope`` (a
    ``Stack``) or the stack already known for ``scope``. Nothing is asked of Node."""
    state = _state(construct)
    if state is None or _STACK in state:
        return
    if isinstance(scope, Stack):
        state[_STACK] = scope
        return
    known = _state(scope)
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
    state = _state(obj)
    if state is None:
        return getattr(obj, name)
    cache = state.get(_ATTRIBUTES)
    if cache is None:
        cache = state[_ATTRIBUTES] = {}
    if name not in cache:
        cache[name] = getattr(obj, name)
    return cache[name]


def remember(obj: Any, name: str, value: Any) -> None:
    """Tell :func:`attribute` what ``obj.name`` is, known without asking (the object passed to
    the constructor that stores it)."""
    state = _state(obj)
    if state is not None:
        state.setdefault(_ATTRIBUTES, {})[name] = value
