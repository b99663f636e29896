"""Compliance tooling: register the cdk-nag packs on an app, and acknowledge findings in place.

Every acknowledgement in this library goes through :func:`acknowledge`, which sits next to the
resource it is about and carries a specific reason. It records the same reason for cdk-nag
(``Validations.of(construct).acknowledge``) and, for checkov, in the CloudFormation resource's
``Metadata.checkov.skip`` list, so one reviewable line explains a finding to both tools.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, Sequence

import jsii
import jsii.errors
from aws_cdk import (
    Acknowledgment,
    CfnResource,
    IPolicyValidationContextBeta1,
    IPolicyValidationPluginBeta1,
    PolicyValidationPluginReportBeta1,
    Stack,
    Stage,
    Validations,
)
from aws_cdk import aws_iam as iam
from constructs import IConstruct, IValidation

#: Why a CDK-generated ``DefaultPolicy`` on a single service role is acceptable.
INLINE_SERVICE_POLICY_REASON = (
    "CDK-generated policy attached to exactly one service role and scoped to the resources it "
    "writes to; a managed policy would grant the same and is only preferable when shared."
)

#: The cdk-nag rule-pack prefixes, in the order findings are reported.
NAG_PACKS: tuple[str, ...] = ("AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
#: AWS Control Tower's proactive controls, run by ``cdklabs-cdk-validator-cfnguard``.
CONTROL_TOWER_PACK = "ControlTower"
#: The namespace CDK gives that plugin's findings in acknowledgement ids (its plugin name).
CONTROL_TOWER_NAMESPACE = "cdk-validator-cfnguard"
#: Every pack ``add_compliance_checks`` registers by default: the cdk-nag packs, our own and
#: Control Tower's proactive controls.
COMPLIANCE_PACKS: tuple[str, ...] = (*NAG_PACKS, "SageMaker", CONTROL_TOWER_PACK)
#: The acknowledgement-id namespace of each pack (``"<namespace>::<rule>"``).
PACK_NAMESPACES: dict[str, str] = {**{p: p for p in (*NAG_PACKS, "SageMaker")}, CONTROL_TOWER_PACK: CONTROL_TOWER_NAMESPACE}


def add_compliance_checks(app: Stage, *, packs: Sequence[str] = COMPLIANCE_PACKS, verbose: bool = False) -> None:
    """Register rule packs as validation plugins on ``app`` (cdk-nag 3 API).

    Default: the cdk-nag packs AwsSolutions, HIPAA Security, NIST 800-53 R5 and PCI DSS 3.2.1,
    our ``SageMaker`` pack (:class:`SageMakerChecks`) and ``ControlTower``, AWS Control Tower's
    proactive controls (the CloudFormation Guard rules bundled in ``cdklabs-cdk-validator-cfnguard``).
    A finding that is not acknowledged fails ``app.synth()`` / ``cdk synth`` and is written to
    ``validation-report.json``. The cdk-nag packs need ``cdk-nag`` installed and ``ControlTower``
    needs ``cdklabs-cdk-validator-cfnguard`` (both in the ``compliance`` extra); the SageMaker pack
    needs nothing else. It also registers :func:`~sagemaker_constructs.validation.quotas.add_quota_checks`
    (CloudFormation's template quotas fail synth). Without them, asking for one of their packs raises :class:`ComplianceDependencyError`
    naming ``pip install "sagemaker-constructs[compliance]"``, before any pack is registered.
    """
    from .rules.pack import SageMakerChecks

    def nag(name: str):
        def create(scope, verbose):
            import cdk_nag  # the `compliance` extra: imported only when its packs are requested

            return getattr(cdk_nag, name)(scope, verbose=verbose)

        return create

    factories = {
        "AwsSolutions": nag("AwsSolutionsChecks"),
        "HIPAA.Security": nag("HIPAASecurityChecks"),
        "NIST.800.53.R5": nag("NIST80053R5Checks"),
        "PCI.DSS.321": nag("PCIDSS321Checks"),
        "SageMaker": lambda scope, verbose: SageMakerChecks(scope, verbose=verbose),
        CONTROL_TOWER_PACK: _control_tower,
    }
    from .validation.checks import check_choice, check_combination

    check_combination(app, "packs", packs, refused=isinstance(packs, str),
                      because="a list of pack names, e.g. packs=['SageMaker'] (a string is read letter by letter)")
    for pack in packs:
        check_choice(app, "packs", pack, factories)
    _require_checkers(packs)
    # a pack registered twice (the same name twice, or a second call on the app) reports every
    # finding twice: each pack is registered once per app
    registered = vars(app).setdefault(_REGISTERED_PACKS, set())
    new = [p for p in dict.fromkeys(packs) if p not in registered]
    registered.update(new)
    if new:
        Validations.of(app).add_plugins(*(factories[p](app, verbose=verbose) for p in new))
    from .validation.quotas import add_quota_checks

    add_quota_checks(app)  # CloudFormation's template quotas, checked at synth
    flush_postponed(app)  # nested stages synthesized before now (CDK Pipelines' stages)


_REGISTERED_PACKS = "_sagemaker_constructs_registered_packs"  # on the app object, in Python only

#: The command that installs every checker :func:`add_compliance_checks` can register.
COMPLIANCE_INSTALL_COMMAND = 'pip install "sagemaker-constructs[compliance]"'
#: The module each pack needs beyond this library (``SageMaker`` needs none).
_PACK_MODULES: dict[str, str] = {
    **{p: "cdk_nag" for p in NAG_PACKS},
    CONTROL_TOWER_PACK: "cdklabs.cdk_validator_cfnguard",
}


class ComplianceDependencyError(ImportError):
    """A requested rule pack needs a package that is not installed: the message names the packs,
    the missing modules and :data:`COMPLIANCE_INSTALL_COMMAND`. An ``ImportError`` (not a
    ``ValidationError``): the app's arguments are fine, its environment lacks a package."""


def _require_checkers(packs: Iterable[str]) -> None:
    import importlib

    missing: dict[str, list[str]] = {}
    for pack in packs:
        module = _PACK_MODULES.get(pack)
        if module is None:
            continue
        try:
            importlib.import_module(module)
        except ImportError:
            missing.setdefault(module, []).append(pack)
    if missing:
        needs = "; ".join(f"{m} (for {', '.join(p)})" for m, p in missing.items())
        raise ComplianceDependencyError(
            f"add_compliance_checks: not installed: {needs}. Install the checkers with: "
            f"{COMPLIANCE_INSTALL_COMMAND} (or pass packs=(\"SageMaker\",) for our own pack alone).",
            name=next(iter(missing)),
        )


def _control_tower(scope, verbose):
    # Development dependency, imported only when the pack is requested. Its rules are Control
    # Tower's proactive controls (CT.<SERVICE>.PR.<n>); findings are named by the Guard rule.
    return ControlTowerChecks()


#: Where the Control Tower Guard rules sit in the plugin's jsii bundle (``rules/control-tower/cfn-guard``
#: beside its ``lib/``, which is where the plugin reads them).
_GUARD_RULES_IN_BUNDLE = "package/rules/control-tower/cfn-guard/"
_RESOURCE_TYPE = re.compile(r"AWS::[A-Za-z0-9]+::[A-Za-z0-9]+")


@functools.cache
def control_tower_rule_types() -> dict[str, frozenset[str]]:
    """Every Control Tower Guard rule the installed ``cdklabs-cdk-validator-cfnguard`` bundles, by
    the name its ``disabled_rules`` takes (the file's stem, ``"ct-sqs-pr-2"``), with every
    CloudFormation resource type the rule file names anywhere (the type it reports on, the types
    it follows references to, the ones in its comments). Read once per process from the plugin's
    jsii bundle (about 0.3 s); empty if the bundle's layout is not the one known here.
    """
    import importlib.resources
    import tarfile
    from pathlib import PurePosixPath

    found: dict[str, frozenset[str]] = {}
    for entry in (importlib.resources.files("cdklabs.cdk_validator_cfnguard") / "_jsii").iterdir():
        if not entry.name.endswith(".jsii.tgz"):
            continue
        with entry.open("rb") as raw, tarfile.open(fileobj=raw, mode="r:gz") as bundle:
            for member in bundle:
                if member.isfile() and member.name.startswith(_GUARD_RULES_IN_BUNDLE) and member.name.endswith(".guard"):
                    text = bundle.extractfile(member).read().decode("utf-8", "replace")  # type: ignore[union-attr]
                    stem = PurePosixPath(member.name).stem
                    found[stem] = found.get(stem, frozenset()) | frozenset(_RESOURCE_TYPE.findall(text))
    return found


def _resource_types(template_paths: Iterable[str]) -> set[str]:
    present: set[str] = set()
    for path in template_paths:
        with open(path, encoding="utf-8") as handle:
            resources = json.load(handle).get("Resources") or {}
        present.update(r.get("Type", "") for r in resources.values() if isinstance(r, dict))
    return present


@jsii.implements(IPolicyValidationPluginBeta1)
class ControlTowerChecks:
    """AWS Control Tower's proactive controls as a CDK validation plugin: the
    ``cdklabs-cdk-validator-cfnguard`` plugin (same name, so acknowledgements are
    ``cdk-validator-cfnguard::<rule>``), given only the rules that can apply to the templates.

    ``cfn-guard`` costs about the same for every rule and template whether or not the template has
    the rule's resource type, so the plugin's full set (237 rules) spent about 20 s on the
    reference app. At each validation the rules that name none of the templates' resource types
    are disabled first: such a rule selects no resource and can only SKIP (every bundled rule
    starts from ``Resources.*[ Type == ... ]`` and is guarded by ``when ... not empty``). A rule
    naming no resource type, or one this library does not know, always runs.
    ``Validations.of(app).add_plugins(ControlTowerChecks())`` registers it alone;
    :func:`add_compliance_checks` registers it as ``ControlTower``.
    """

    def __init__(self, *, disabled_rules: Sequence[str] = (), max_buffer: int = 64 * 1024 * 1024) -> None:
        """
        :param disabled_rules: rule files never to run, as the plugin names them (``"ct-sqs-pr-2"``).
            Default: none.
        :param max_buffer: the most bytes of ``cfn-guard`` output read. Default: 64 MiB; Guard prints
            every check of every rule and the plugin's own default (1 MB) is too small for three stacks.
        """
        from cdklabs.cdk_validator_cfnguard import CfnGuardValidator

        self._disabled = tuple(disabled_rules)
        self._max_buffer = max_buffer
        self._every_rule = CfnGuardValidator(control_tower_rules_enabled=True, disabled_rules=list(self._disabled),
                                             max_buffer=max_buffer)

    @property
    def name(self) -> str:
        return self._every_rule.name

    @property
    def version(self) -> str | None:
        return self._every_rule.version

    @property
    def rule_ids(self) -> list[str] | None:
        return self._every_rule.rule_ids

    def rules_for(self, template_paths: Sequence[str]) -> tuple[list[str], list[str]]:
        """The rule files that run on these templates and the ones skipped because they name none
        of the templates' resource types (both sorted; the user's ``disabled_rules`` in neither)."""
        known = control_tower_rule_types()
        present = _resource_types(template_paths)
        run, skipped = [], []
        for rule, types in sorted(known.items()):
            if rule in self._disabled:
                continue
            (skipped if types and not types & present else run).append(rule)
        return run, skipped

    def validate(self, context: IPolicyValidationContextBeta1) -> PolicyValidationPluginReportBeta1:
        run, skipped = self.rules_for(context.template_paths)
        if not skipped:
            return self._every_rule.validate(context)
        if not run:
            return PolicyValidationPluginReportBeta1(success=True, violations=[])
        from cdklabs.cdk_validator_cfnguard import CfnGuardValidator

        applicable = CfnGuardValidator(control_tower_rules_enabled=True, disabled_rules=[*self._disabled, *skipped],
                                       max_buffer=self._max_buffer)
        return applicable.validate(context)


_GUARD_RULE = re.compile(r"[a-z0-9]+(_[a-z0-9]+)*")


def control_tower_rule_id(rule: str) -> str:
    """The acknowledgement id of a Control Tower proactive-control finding.

    The plugin names a finding by its Guard rule (the report prints ``Acknowledge with
    'cdk-validator-cfnguard::<rule>'``): ``"lambda_inside_vpc_check"`` and
    ``"ControlTower-lambda_inside_vpc_check"`` become
    ``"cdk-validator-cfnguard::lambda_inside_vpc_check"``; a full id is returned unchanged.
    """
    for prefix in (f"{CONTROL_TOWER_NAMESPACE}::", f"{CONTROL_TOWER_PACK}::", f"{CONTROL_TOWER_PACK}-"):
        if rule.startswith(prefix):
            rule = rule[len(prefix):]
            break
    if not _GUARD_RULE.fullmatch(rule):
        raise ValueError(
            f"not a Control Tower Guard rule name: {rule!r}; expected the rule the report names, "
            "e.g. 'lambda_inside_vpc_check' (see validation-report.json)"
        )
    return f"{CONTROL_TOWER_NAMESPACE}::{rule}"


def nag_rule_id(rule: str) -> str:
    """The acknowledgement id cdk-nag 3 expects: ``"<pack>::<rule>"``.

    ``"AwsSolutions-IAM5"`` becomes ``"AwsSolutions::AwsSolutions-IAM5"`` and
    ``"AwsSolutions-IAM5[Resource::*]"`` becomes ``"AwsSolutions::AwsSolutions-IAM5[Resource::*]"``;
    an id that already starts with ``"<pack>::"`` is returned unchanged. Control Tower rules
    (``"ControlTower-<guard rule>"``) go through :func:`control_tower_rule_id`.
    """
    if rule.startswith((f"{CONTROL_TOWER_PACK}-", f"{CONTROL_TOWER_PACK}::", f"{CONTROL_TOWER_NAMESPACE}::")):
        return control_tower_rule_id(rule)
    if any(rule.startswith(f"{pack}::") for pack in COMPLIANCE_PACKS):
        return rule
    for pack in COMPLIANCE_PACKS:
        if rule.startswith(pack + "-"):
            return f"{pack}::{rule}"
    raise ValueError(f"unknown rule pack in {rule!r}; expected one of {COMPLIANCE_PACKS}")


def _cfn_resources(construct: IConstruct) -> list[CfnResource]:
    if isinstance(construct, CfnResource):
        return [construct]
    default = construct.node.default_child
    if isinstance(default, CfnResource):
        return [default]
    return [c for c in construct.node.find_all() if isinstance(c, CfnResource)]


def _acknowledge_rule(construct: IConstruct, rule: str, reason: str, validations: Validations | None = None) -> None:
    try:
        (validations or Validations.of(construct)).acknowledge(Acknowledgment(id=rule, reason=reason))
    except RuntimeError as error:
        # aws-cdk-lib 2.266-2.268 reject a '::' inside the rule name (cdk-nag's granular ids,
        # "AwsSolutions::AwsSolutions-IAM5[Resource::*]"); they match such a finding by its bare
        # rule name in the acknowledged-rules metadata, so record it under that name. 2.269 on
        # parse the id with brackets and take the call above.
        if "InvalidValidationId" not in str(error) or "::" not in rule:
            raise
        construct.node.add_metadata(Validations.ACKNOWLEDGED_RULES_METADATA_KEY, {rule.split("::", 1)[1]: reason})


# --- deferred bookkeeping ---------------------------------------------------------------------
# Acknowledgements and IAM finding ids are read only by the rule packs, when the app is
# validated. So they are recorded in Python, in one ledger per stack, and written in one pass at
# validation, and only when a pack that reads them can be registered: no Python-to-Node call is
# spent on them otherwise (issue 11). cdk-nag's and the Control Tower plugin's packs are made from
# Python, so without their modules loaded none of them is registered; our own pack marks itself.
_PACK_MODULES_READING_ACKNOWLEDGEMENTS = ("cdk_nag", "cdklabs.cdk_validator_cfnguard")
_our_pack_created = False
_in_pass = False


def note_pack_created() -> None:
    """Called by :class:`~sagemaker_constructs.SageMakerChecks`: from now on acknowledgements are written."""
    global _our_pack_created
    _our_pack_created = True


def packs_may_read_acknowledgements() -> bool:
    """Whether a rule pack that reads acknowledgements can be registered in this process (cdk-nag
    or the Control Tower plugin is imported, or our pack was created). Checked at validation."""
    return _our_pack_created or any(m in sys.modules for m in _PACK_MODULES_READING_ACKNOWLEDGEMENTS)


@jsii.implements(IValidation)
class _Ledger:
    """The compliance bookkeeping of one stack, done once when the app is validated: after CDK
    has resolved cross-stack references (so IAM finding ids name ``Fn::ImportValue`` exports as
    cdk-nag does) and before the cloud assembly's metadata is written."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self.tasks: list[Callable[[], None]] = []
        self.checks: list[Callable[[], list[str]]] = []
        #: How many of ``tasks`` have run (a task added later, before a second synth, runs then).
        self._ran = 0
        self._root: IConstruct | None = None
        self._postponed = False

    def validate(self) -> list[str]:
        errors = [e for check in self.checks for e in check()]
        if self._ran < len(self.tasks):
            if packs_may_read_acknowledgements():
                self.run()
            else:
                self._postpone()
        return errors

    def run(self) -> None:
        """The tasks not run yet, in order."""
        global _in_pass
        _in_pass, outer = True, _in_pass
        try:
            while self._ran < len(self.tasks):
                self._ran += 1
                self.tasks[self._ran - 1]()
        finally:
            _in_pass = outer
            self._postponed = False

    def _postpone(self) -> None:
        """Keep the tasks for a pack registered later (see ``_POSTPONED``); the app gets one
        validation of its own that runs them when it is validated (``_Flush``)."""
        if self._postponed:
            return
        self._postponed = True
        root = self.root()
        _POSTPONED.setdefault(id(root), []).append(self)
        if id(root) not in _FLUSH_HOOKS:
            _FLUSH_HOOKS[id(root)] = hook = _Flush(root)
            root.node.add_validation(hook)

    def root(self) -> IConstruct:
        """The app this ledger's stack is in (asked once)."""
        if self._root is None:
            self._root = self._stack.node.root
        return self._root


@jsii.implements(IValidation)
class _Flush:
    """The app's own validation: CDK runs it after every nested stage has been synthesized and
    before the packs read the app's acknowledgements, so the postponed bookkeeping of its stacks
    is written then, if a pack was registered by any means (``Validations.of(app).add_plugins``
    included)."""

    def __init__(self, root: IConstruct) -> None:
        self._root = root

    def validate(self) -> list[str]:
        if packs_may_read_acknowledgements():
            _run_postponed(self._root)
        return []


# A nested Stage (a CDK Pipelines stage, a delivery stage) is synthesized, and its stacks are
# validated, while the app is being built (CDK Pipelines' addStage) or at the start of the app's
# synth, and packs are often registered only after the app is built (app.py). CDK reads
# acknowledgements from the construct tree when the app itself is validated, after every nested
# stage (aws-cdk-lib core/lib/private/synthesis-validation.js, collectSuppressions). So the
# bookkeeping of a ledger validated before any pack could read it waits here, by app, and is done
# when a pack is registered on its app (add_compliance_checks, SageMakerChecks(app)) or when the
# app itself is validated with a pack readable (_Flush). Without a pack it is never done: a
# postponed ledger costs the lookup of its app and, once per app, the app's validation (two to
# four calls), and nothing else.
_POSTPONED: dict[int, list[_Ledger]] = {}
#: The app validation added for postponed ledgers, by the app's ``id`` (one per app).
_FLUSH_HOOKS: dict[int, _Flush] = {}


def flush_postponed(scope: IConstruct) -> None:
    """Do the postponed bookkeeping (see ``_POSTPONED``) of the stacks in ``scope``'s app."""
    if _POSTPONED:
        _run_postponed(scope.node.root)


def _run_postponed(root: IConstruct) -> None:
    for ledger in _POSTPONED.pop(id(root), ()):
        ledger.run()


_LEDGER_ATTRIBUTE = "_sagemaker_constructs_ledger"


def _ledger(construct: IConstruct) -> _Ledger | None:
    from ._internal.stacks import stack_of

    try:
        stack = stack_of(construct)
    except (RuntimeError, jsii.errors.JSIIError):  # not in a stack: nothing to defer to
        return None
    ledger = getattr(stack, _LEDGER_ATTRIBUTE, None)
    if ledger is None:
        ledger = _Ledger(stack)
        setattr(stack, _LEDGER_ATTRIBUTE, ledger)
        stack.node.add_validation(ledger)
    return ledger


def when_checked(construct: IConstruct, task: Callable[[], None]) -> None:
    """Run ``task`` once, when the app is validated and a rule pack may read its result (see
    :func:`packs_may_read_acknowledgements`); never otherwise. For bookkeeping only the packs
    read: acknowledgements and the IAM finding ids they need."""
    ledger = None if _in_pass else _ledger(construct)
    if ledger is None:  # already validating (or outside any stack): now
        task()
    else:
        ledger.tasks.append(task)


def check_at_synth(construct: IConstruct, check: Callable[[], list[str]]) -> None:
    """Run ``check`` when the app is validated (always): its messages fail synth. One CDK
    validation per stack carries every such check, instead of one per construct."""
    ledger = _ledger(construct)
    if ledger is None:
        construct.node.add_validation(_Check(check))
    else:
        ledger.checks.append(check)


@jsii.implements(IValidation)
class _Check:
    def __init__(self, check: Callable[[], list[str]]) -> None:
        self._check = check

    def validate(self) -> list[str]:
        return self._check()


#: The fewest characters an acknowledgement's reason has (a specific reason, not "ok" or "n/a").
MIN_REASON_LENGTH = 20


def check_reason(reason: str) -> None:
    """Raise ``ValueError`` unless ``reason`` is a specific reason: a string of at least
    :data:`MIN_REASON_LENGTH` characters besides surrounding blanks. Every acknowledging function
    checks it when called, whether or not a pack ever writes the acknowledgement."""
    if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValueError(f"an acknowledgement needs a specific reason (at least {MIN_REASON_LENGTH} characters), "
                         f"got {reason!r}")


def acknowledge(
    construct: IConstruct,
    *,
    reason: str,
    nag: Iterable[str] = (),
    checkov: Iterable[str] = (),
    control_tower: Iterable[str] = (),
) -> None:
    """Acknowledge findings on ``construct`` (and its children) with one specific ``reason``.

    ``nag`` takes cdk-nag rule names (``"AwsSolutions-IAM5"``, ``"NIST.800.53.R5-..."``);
    ``control_tower`` takes the Guard rule names of Control Tower's proactive controls
    (``"lambda_inside_vpc_check"``, as ``validation-report.json`` names them), acknowledged the
    same way (CDK validation acknowledgements, namespace ``cdk-validator-cfnguard``);
    ``checkov`` takes checkov check ids (``"CKV_AWS_18"``), written to the resource metadata
    (the construct's default child, or every CfnResource below it when it has none).

    The cdk-nag and Control Tower acknowledgements are recorded when the app is validated, and
    only when a pack that reads them can be registered (:func:`when_checked`); checkov reads the
    template, so its skips are written now.
    """
    check_reason(reason)
    rules = [nag_rule_id(r) for r in nag] + [control_tower_rule_id(r) for r in control_tower]
    if rules:
        when_checked(construct, lambda: _acknowledge_rules(construct, rules, reason))
    checks = list(checkov)
    if checks:
        for resource in _cfn_resources(construct):
            state = vars(resource)
            written = state.get(_CHECKOV_WRITTEN)  # inside new_resource(): what is there, known here
            meta = written if written is not None else resource.get_metadata("checkov") or {}
            skips = list(meta.get("skip", []))
            known = {s["id"] for s in skips}
            skips.extend({"id": c, "comment": reason} for c in checks if c not in known)
            resource.add_metadata("checkov", {**meta, "skip": skips})
            if written is not None:
                state[_CHECKOV_WRITTEN] = {**meta, "skip": skips}


_CHECKOV_WRITTEN = "_sagemaker_constructs_checkov"


@contextmanager
def new_resource(resource: CfnResource) -> Iterator[None]:
    """For the code that has just created ``resource`` (so it has no metadata yet): within the
    block, :func:`acknowledge` keeps its checkov skips in Python instead of reading them back
    from Node first (one Python-to-Node call fewer per acknowledgement). Only around code of this
    library that nothing else runs in between."""
    state = vars(resource)
    state[_CHECKOV_WRITTEN] = {}
    try:
        yield
    finally:
        state.pop(_CHECKOV_WRITTEN, None)


def _acknowledge_rules(construct: IConstruct, rules: Sequence[str], reason: str) -> None:
    validations = Validations.of(construct)
    for rule in rules:
        _acknowledge_rule(construct, rule, reason, validations)


def across_packs(rule: str, packs: Sequence[str] = ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")) -> list[str]:
    """The same rule name in several packs: ``across_packs("S3BucketReplicationEnabled")``."""
    return [f"{p}-{rule}" for p in packs]


def nag_flatten(node: Any) -> str:
    """A resolved CloudFormation value as cdk-nag flattens it into a finding id.

    ``{"Fn::GetAtt": ["Fn1", "Arn"]}`` becomes ``"<Fn1.Arn>"``, ``{"Ref": "AWS::Region"}``
    becomes ``"<AWS::Region>"`` and ``Fn::Join`` parts are joined.
    """
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if node.get("Fn::Join"):
            delimiter, items = node["Fn::Join"]
            return delimiter.join(nag_flatten(i) for i in items)
        if node.get("Fn::Sub"):
            return nag_flatten(node["Fn::Sub"])
        if node.get("Fn::GetAtt"):
            resource, attribute = node["Fn::GetAtt"]
            return f"<{nag_flatten(resource)}.{nag_flatten(attribute)}>"
        if node.get("Fn::ImportValue"):
            return nag_flatten(node["Fn::ImportValue"])
        if node.get("Ref"):
            return f"<{nag_flatten(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _policy_documents(resource: CfnResource, stack: Stack) -> list[dict[str, Any]]:
    if isinstance(resource, iam.CfnPolicy):
        return [stack.resolve(resource.policy_document)]
    if isinstance(resource, iam.CfnManagedPolicy):
        return [stack.resolve(resource.policy_document)]
    if isinstance(resource, iam.CfnRole):
        return [stack.resolve(p)["PolicyDocument"] for p in _as_list(stack.resolve(resource.policies) or [])]
    return []


def iam_findings(construct: IConstruct) -> dict[str, list[str]]:
    """The AwsSolutions-IAM4/IAM5 finding ids cdk-nag will report for the IAM resources under
    ``construct``, by construct path: ``AwsSolutions-IAM5[Resource::<Fn.Arn>:*]``,
    ``AwsSolutions-IAM5[Action::s3:Get*]``, ``AwsSolutions-IAM4[Policy::arn:...]``.

    cdk-nag reports one finding per wildcard or AWS-managed policy and CDK matches
    acknowledgements exactly, so these ids are computed the way cdk-nag flattens them. Call it
    when the policies are complete (after the grants that fill them).
    """
    return {resource.node.path: ids for resource, ids in _iam_findings(construct)}


def _iam_findings(construct: IConstruct) -> list[tuple[CfnResource, list[str]]]:
    # One find_all over the subtree; the IAM resources with findings, with their ids.
    return [(resource, ids) for resource, _, ids in _iam_resources_with_findings(construct)]


def _iam_resources_with_findings(construct: IConstruct) -> list[tuple[CfnResource, list[dict[str, Any]], list[str]]]:
    """The IAM resources under ``construct`` that have findings: each with its resolved statements
    and its finding ids (one find_all, each document resolved once)."""
    stack = Stack.of(construct)
    found: list[tuple[CfnResource, list[dict[str, Any]], list[str]]] = []
    from ._internal.nag import document_findings  # the one IAM5 calculator

    for resource in construct.node.find_all():
        if not isinstance(resource, (iam.CfnPolicy, iam.CfnManagedPolicy, iam.CfnRole)):
            continue
        statements = [st for document in _policy_documents(resource, stack)
                      for st in _as_list(document.get("Statement", []))]
        ids: list[str] = document_findings(statements) if statements else []
        if isinstance(resource, iam.CfnRole):
            for arn in _as_list(stack.resolve(resource.managed_policy_arns) or []):
                flat = nag_flatten(arn)
                if ":iam::aws:policy/" in flat:
                    ids.append(f"AwsSolutions-IAM4[Policy::{flat}]")
        if ids:
            found.append((resource, statements, list(dict.fromkeys(ids))))
    return found


def acknowledge_iam_findings(construct: IConstruct, *, reason: str) -> list[str]:
    """Acknowledge, on each IAM resource under ``construct``, exactly the IAM4/IAM5 findings it
    has now (see :func:`iam_findings`), with ``reason``. Returns the acknowledged ids."""
    check_reason(reason)
    acknowledged = []
    for resource, ids in _iam_findings(construct):
        acknowledge(resource, reason=reason, nag=ids)
        acknowledged.extend(ids)
    return acknowledged


def acknowledge_statement_findings(construct: IConstruct,
                                   statements: Sequence[iam.PolicyStatement | dict[str, Any]], *,
                                   reason: str) -> None:
    """Acknowledge, on each IAM resource under ``construct``, only the IAM5 findings that
    ``statements`` produce (not whatever else that policy holds: for a policy shared with the
    caller's own statements, such as an imported role's), computed when the app is validated and
    only if a pack can read them (no call otherwise)."""
    check_reason(reason)

    when_checked(construct, lambda: _acknowledge_findings_of(construct, statements, reason))


def _acknowledge_findings_of(construct: IConstruct, statements: Sequence[iam.PolicyStatement | dict[str, Any]],
                             reason: str, but_not: Sequence[iam.PolicyStatement | dict[str, Any]] = ()) -> None:
    """At validation: acknowledge, on the IAM resources under ``construct``, the IAM5 findings that
    ``statements`` produce and ``but_not`` does not."""
    from ._internal.nag import document_findings

    stack = Stack.of(construct)

    def findings(group: Sequence[iam.PolicyStatement | dict[str, Any]]) -> set[str]:
        return set(document_findings([stack.resolve(st if isinstance(st, dict) else st.to_statement_json())
                                      for st in group])) if group else set()

    ours = findings(statements) - findings(but_not)
    if not ours:
        return
    for resource, ids in _iam_findings(construct):
        rules = [rule for rule in ids if rule in ours]
        if rules:
            _acknowledge_rules(resource, [nag_rule_id(r) for r in rules], reason)


def acknowledge_generated_findings(construct: IConstruct, *, reason: str, actions: Sequence[str],
                                   managed_policies: Sequence[str] = ()) -> None:
    """For the policies aws-cdk-lib writes inside a construct of ours (a Provider framework, the
    ``DefaultPolicy`` of a Lambda function's role): acknowledge, when the app is validated and
    only if a pack reads them, the IAM5 findings of the statements whose every action matches one
    of ``actions`` (``fnmatch`` patterns: the actions CDK writes there), and the IAM4 findings of
    the AWS managed policies named in ``managed_policies`` (``"service-role/AWSLambdaBasicExecutionRole"``).
    A statement with any other action, yours added later, keeps its findings."""
    check_reason(reason)
    when_checked(construct, lambda: _acknowledge_generated(construct, reason, actions, managed_policies))


def _acknowledge_generated(construct: IConstruct, reason: str, actions: Sequence[str],
                           managed_policies: Sequence[str]) -> None:
    from fnmatch import fnmatchcase

    from ._internal.nag import document_findings

    allowed_iam4 = {f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{name}]" for name in managed_policies}
    for resource, statements, ids in _iam_resources_with_findings(construct):
        generated = [
            statement for statement in statements
            if "Action" in statement
            and all(any(fnmatchcase(action, p) for p in actions) for action in _as_list(statement["Action"]))
        ]
        ours = set(document_findings(generated)) if generated else set()
        rules = [rule for rule in ids if rule in ours or rule in allowed_iam4]
        if rules:
            _acknowledge_rules(resource, [nag_rule_id(r) for r in rules], reason)


def acknowledge_present_findings(construct: IConstruct, *, reason: str) -> None:
    """:func:`acknowledge_iam_findings` for this library's own policies: for a managed policy whose
    statements so far are all recorded in Python (``_internal.managed_role.note_statements``), the
    findings those statements produce, worked out when the app is validated
    (:func:`acknowledge_statement_findings`: no call now, none without a pack); statements added
    later keep their findings. Anything else is read now. A statement the record missed leaves its
    finding unacknowledged (reported), never one of yours acknowledged."""
    check_reason(reason)
    from ._internal.managed_role import known_statements

    known = known_statements(construct) if isinstance(construct, iam.ManagedPolicy) else None
    if known is None:
        acknowledge_iam_findings(construct, reason=reason)
    else:
        acknowledge_statement_findings(construct, list(known), reason=reason)


def _recorded_policy_marks(construct: IConstruct) -> list[tuple[Any, list[Any], int]] | None:
    """For one of our execution roles whose policies all record their statements in Python: each
    policy, its record (which grows) and how long it is now; else ``None``. Findings of
    statements added later without the record (straight to ``role.policy``) are then reported,
    never acknowledged."""
    from ._internal.managed_role import known_statements

    own: Callable[[], Iterable[Any]] | None = getattr(construct, "_own_policies", None)
    if not callable(own):
        return None
    marks = []
    for policy in own():
        known = known_statements(policy)
        if known is None:
            return None
        marks.append((policy, known, len(known)))
    return marks


def _finding_set(construct: IConstruct) -> set[tuple[str, str]]:
    return {(path, rule) for path, rules in iam_findings(construct).items() for rule in rules}


def _acknowledge_late_findings(construct: IConstruct, reason: str, exclude: set[tuple[str, str]]) -> None:
    for resource, ids in _iam_findings(construct):
        path = resource.node.path
        rules = [rule for rule in ids if (path, rule) not in exclude]
        if rules:
            _acknowledge_rules(resource, [nag_rule_id(r) for r in sorted(rules)], reason)


def acknowledge_iam_findings_at_synth(
    construct: IConstruct, *, reason: str, exclude: Callable[[], set[tuple[str, str]]] | None = None,
    include_present: bool = False,
) -> None:
    """Like :func:`acknowledge_iam_findings`, for the IAM4/IAM5 findings added to the IAM
    resources under ``construct`` from now on (grants made later, e.g. by an endpoint's data
    capture), computed when the app is validated: cross-stack references are resolved then, so
    the ids match what cdk-nag reports (``Fn::ImportValue`` names instead of local tokens).

    The findings present now are left out: computed now, or, given ``exclude`` (for a construct
    that knows its own statements, like our execution roles), by calling it at validation, so no
    call is spent when no pack is registered. With ``include_present``, the findings present now
    are acknowledged too, with the same reason (what ``acknowledge_iam_findings`` now and this
    function would together acknowledge), all of them at validation: nothing is computed now."""
    check_reason(reason)
    if include_present:
        exclude = set  # acknowledge every finding there is at validation
    elif exclude is None:
        marks = _recorded_policy_marks(construct)
        if marks is not None:  # our execution role: what it holds now is known in Python
            recorded = marks

            def acknowledge_late() -> None:
                for policy, known, count in recorded:
                    _acknowledge_findings_of(policy, known[count:], reason, known[:count])

            when_checked(construct, acknowledge_late)
            return
        present = _finding_set(construct)
        exclude = lambda: present  # noqa: E731
    when_checked(construct, lambda: _acknowledge_late_findings(construct, reason, exclude()))
