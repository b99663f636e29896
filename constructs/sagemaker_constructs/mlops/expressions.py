"""Run-time values of a pipeline definition: parameters, execution variables, step properties,
property files and joins, each with a *kind* so a step refuses a value of the wrong kind at synth
(a model artifact where a plain string is expected, a string where a number is).

They render to the definition's forms (``{"Get": "Parameters.X"}``, ``{"Get": "Steps.S.P"}``,
``Std:Join``, ``Std:JsonGet``) when :class:`~sagemaker_constructs.Pipeline` renders its steps,
and the steps they name become dependencies of the step that uses them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from ..errors import ValidationError, check_choice, check_pattern, is_unresolved

if TYPE_CHECKING:
    from .steps import Step

#: Kinds of values. ``ANY`` is a value read from a JSON property file (type known only at run time).
STRING, S3_URI, MODEL_ARTIFACTS, NUMBER, BOOLEAN, ANY = "String", "S3Uri", "ModelArtifacts", "Number", "Boolean", "Any"

#: What each argument context accepts (literal Python values are checked by the steps themselves).
ACCEPTS: dict[str, frozenset[str]] = {
    STRING: frozenset({STRING, S3_URI, ANY}),
    S3_URI: frozenset({STRING, S3_URI, MODEL_ARTIFACTS, ANY}),
    MODEL_ARTIFACTS: frozenset({STRING, S3_URI, MODEL_ARTIFACTS, ANY}),
    NUMBER: frozenset({NUMBER, ANY}),
    BOOLEAN: frozenset({BOOLEAN, ANY}),
    ANY: frozenset({STRING, S3_URI, MODEL_ARTIFACTS, NUMBER, BOOLEAN, ANY}),
}

PARAMETER_TYPES = {"String": STRING, "Integer": NUMBER, "Float": NUMBER, "Boolean": BOOLEAN}
PARAMETER_NAME_PATTERN = r"[A-Za-z0-9\-_]{1,256}"
_DEFAULT_TYPES = {"String": "a str", "Integer": "an int", "Float": "a finite int or float", "Boolean": "a bool"}


def _default_fits(type: str, default: Any) -> bool:
    """Whether ``default`` is a JSON value of the parameter type (a bool is no number here)."""
    if type == "String":
        return isinstance(default, str)
    if type == "Boolean":
        return isinstance(default, bool)
    if isinstance(default, bool):
        return False
    if isinstance(default, float) and not math.isfinite(default):
        return False  # JSON has no NaN or infinity: jsii could not carry the definition
    return isinstance(default, int) if type == "Integer" else isinstance(default, (int, float))


class Expression:
    """A value known only when the pipeline runs."""

    kind: str = ANY

    def render(self) -> Any:  # pragma: no cover - every subclass renders
        raise NotImplementedError

    def children(self) -> Iterable[Any]:
        return ()

    def to_json(self) -> Any:
        """The definition's form of this value (with Tokens, resolved at synth)."""
        return render(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.render()!r})"


class Parameter(Expression):
    """A pipeline parameter (``String``, ``Integer``, ``Float`` or ``Boolean``) with its default;
    use it as a value anywhere a step takes one. Referenced parameters are declared in the
    definition even when they are not in ``Pipeline(parameters=...)``."""

    def __init__(self, name: str, type: str = "String", default: Any = None) -> None:
        if name is None or is_unresolved(name):
            raise ValidationError("Parameter", "name", name, "a pipeline parameter name known at synth")
        check_pattern("Parameter", "name", name, PARAMETER_NAME_PATTERN,
                      description="1-256 letters, digits, hyphens and underscores",
                      limit="botocore sagemaker PipelineParameterName")
        check_choice(f"Parameter {name!r}", "type", type, PARAMETER_TYPES)
        if default is not None and not is_unresolved(default) and not _default_fits(type, default):
            # The definition's DefaultValue is typed (the pipeline definition schema: a JSON string, integer,
            # number or boolean): another type fails CreatePipeline at deployment.
            raise ValidationError(f"Parameter {name!r}", "default", default,
                                  f"a default of the parameter's type ({_DEFAULT_TYPES[type]})")
        self.name: str = name
        self.type: str = type
        self.default: Any = default
        self.kind: str = PARAMETER_TYPES[type]

    @classmethod
    def string(cls, name: str, default: str | None = None) -> "Parameter":
        return cls(name, "String", default)

    @classmethod
    def integer(cls, name: str, default: int | None = None) -> "Parameter":
        return cls(name, "Integer", default)

    @classmethod
    def float(cls, name: str, default: float | None = None) -> "Parameter":  # noqa: A003 - SDK's name
        return cls(name, "Float", default)

    @classmethod
    def boolean(cls, name: str, default: bool | None = None) -> "Parameter":
        return cls(name, "Boolean", default)

    def render(self) -> dict[str, str]:
        return {"Get": f"Parameters.{self.name}"}

    def declaration(self) -> dict[str, Any]:
        declared: dict[str, Any] = {"Name": self.name, "Type": self.type}
        if self.default is not None:
            declared["DefaultValue"] = self.default
        return declared


class ExecutionVariable(Expression):
    """``Execution.<name>``: the execution's id, pipeline name, start time..."""

    kind: str = STRING

    def __init__(self, name: str) -> None:
        self.name: str = name

    def render(self) -> dict[str, str]:
        return {"Get": f"Execution.{self.name}"}


class Execution:
    """The execution variables SageMaker Pipelines resolves at run time."""

    ID = ExecutionVariable("PipelineExecutionId")
    ARN = ExecutionVariable("PipelineExecutionArn")
    PIPELINE_NAME = ExecutionVariable("PipelineName")
    PIPELINE_ARN = ExecutionVariable("PipelineArn")
    START_TIME = ExecutionVariable("StartDateTime")
    CURRENT_TIME = ExecutionVariable("CurrentDateTime")


class Property(Expression):
    """A property of a step's job (its ``Describe*`` response), e.g. ``train.model_artifacts``."""

    def __init__(self, step: "Step", path: str, kind: str) -> None:
        self.step: "Step" = step
        self.path: str = path
        self.kind: str = kind

    def render(self) -> dict[str, str]:
        return {"Get": f"Steps.{self.step.name}.{self.path}"}


class PropertyFile:
    """A JSON file a processing step writes to one of its outputs; read values with
    :meth:`json_get` (``Std:JsonGet``)."""

    def __init__(self, step: "Step", name: str, output_name: str, path: str) -> None:
        self.step: "Step" = step
        self.name: str = name
        self.output_name: str = output_name
        self.path: str = path

    def json_get(self, json_path: str, *, kind: str = ANY) -> "JsonGet":
        """The value at ``json_path`` (``metrics.accuracy.value``) once the step has run."""
        if not isinstance(json_path, str) or not json_path:
            raise ValidationError(f"property file {self.name!r}", "json_path", json_path, "a non-empty JSON path")
        return JsonGet(self, json_path, kind)

    def declaration(self) -> dict[str, str]:
        return {"PropertyFileName": self.name, "OutputName": self.output_name, "FilePath": self.path}


class JsonGet(Expression):
    def __init__(self, property_file: PropertyFile, path: str, kind: str = ANY) -> None:
        self.property_file: PropertyFile = property_file
        self.path: str = path
        self.kind: str = kind

    def render(self) -> dict[str, Any]:
        pf = self.property_file
        return {"Std:JsonGet": {"PropertyFile": {"Get": f"Steps.{pf.step.name}.PropertyFiles.{pf.name}"},
                                "Path": self.path}}

    def children(self) -> Iterable[Any]:
        return (Property(self.property_file.step, f"PropertyFiles.{self.property_file.name}", ANY),)


class Join(Expression):
    """``Std:Join`` of values (strings, parameters, properties) at run time."""

    def __init__(self, *values: Any, on: str = "/", kind: str = STRING) -> None:
        self.values: list[Any] = list(values)
        self.on: str = on
        self.kind: str = kind

    def render(self) -> dict[str, Any]:
        return {"Std:Join": {"On": self.on, "Values": self.values}}

    def children(self) -> Iterable[Any]:
        return self.values


def join(*values: Any, on: str = "/", kind: str = STRING) -> Join:
    """``Std:Join`` (``on`` defaults to ``/``, for S3 URIs)."""
    return Join(*values, on=on, kind=kind)


def s3_uri(*values: Any) -> Join:
    """An S3 URI joined at run time from parts: ``s3_uri("s3://bucket/prefix", Execution.ID, "out")``."""
    return Join(*values, on="/", kind=S3_URI)


# ------------------------------------------------------------------ rendering and walking
def render(value: Any) -> Any:
    """``value`` with every :class:`Expression` replaced by its definition form."""
    if isinstance(value, Expression):
        return render(value.render())
    if isinstance(value, dict):
        return {k: render(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [render(v) for v in value]
    return value


def walk(value: Any) -> Iterator[Expression]:
    """Every expression in ``value`` (nested in dicts, lists and other expressions)."""
    if isinstance(value, Expression):
        yield value
        for child in value.children():
            yield from walk(child)
    elif isinstance(value, dict):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from walk(v)


def check_kind(where: str, argument: str, value: Any, context: str) -> Any:
    """Raise unless an expression ``value`` is of a kind ``context`` accepts (literals pass)."""
    if isinstance(value, Expression) and value.kind not in ACCEPTS[context]:
        raise ValidationError(where, argument, value.render(),
                              f"a {context} value (got a {value.kind} reference; allowed kinds: "
                              f"{', '.join(sorted(ACCEPTS[context]))})")
    return value
