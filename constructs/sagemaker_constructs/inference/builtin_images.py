"""SageMaker's first-party images by name: built-in algorithms (XGBoost) and the framework
containers users pick (scikit-learn, PyTorch, TensorFlow, Hugging Face), resolved from registry
account tables that ship with the library.

The accounts are those of "Docker Registry Paths and Example Code"
(https://docs.aws.amazon.com/sagemaker/latest/dg-ecr-paths/sagemaker-algo-docker-registry-paths.html),
as the SageMaker Python SDK lists them (``src/sagemaker/image_uri_config/xgboost.json``,
``sklearn.json``, ``pytorch.json``); ``tests/fixtures/ecr-paths/`` holds the excerpts the tests
compare these tables with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

from ..errors import ValidationError
from ..validation.checks import check_choice

if TYPE_CHECKING:
    from .models import ContainerImage

#: ``sagemaker-xgboost`` and ``sagemaker-scikit-learn`` (same accounts).
FIRST_PARTY_ACCOUNTS: Mapping[str, str] = {
    "af-south-1": "510948584623", "ap-east-1": "651117190479", "ap-northeast-1": "354813040037",
    "ap-northeast-2": "366743142698", "ap-northeast-3": "867004704886", "ap-south-1": "720646828776",
    "ap-south-2": "628508329040", "ap-southeast-1": "121021644041", "ap-southeast-2": "783357654285",
    "ap-southeast-3": "951798379941", "ap-southeast-4": "106583098589", "ca-central-1": "341280168497",
    "ca-west-1": "190319476487", "cn-north-1": "450853457545", "cn-northwest-1": "451049120500",
    "eu-central-1": "492215442770", "eu-central-2": "680994064768", "eu-north-1": "662702820516",
    "eu-south-1": "978288397137", "eu-south-2": "104374241257", "eu-west-1": "141502667606",
    "eu-west-2": "764974769150", "eu-west-3": "659782779980", "il-central-1": "898809789911",
    "me-central-1": "272398656194", "me-south-1": "801668240914", "sa-east-1": "737474898029",
    "us-east-1": "683313688378", "us-east-2": "257758044811", "us-gov-east-1": "237065988967",
    "us-gov-west-1": "414596584902", "us-west-1": "746614075791", "us-west-2": "246618743249",
}
#: The Deep Learning Containers (PyTorch, TensorFlow, Hugging Face).
DLC_ACCOUNTS: Mapping[str, str] = {
    "af-south-1": "626614931356", "ap-east-1": "871362719292", "ap-northeast-1": "763104351884",
    "ap-northeast-2": "763104351884", "ap-northeast-3": "364406365360", "ap-south-1": "763104351884",
    "ap-southeast-1": "763104351884", "ap-southeast-2": "763104351884", "ca-central-1": "763104351884",
    "cn-north-1": "727897471807", "cn-northwest-1": "727897471807", "eu-central-1": "763104351884",
    "eu-north-1": "763104351884", "eu-west-1": "763104351884", "eu-west-2": "763104351884",
    "eu-west-3": "763104351884", "eu-south-1": "692866216735", "me-south-1": "217643126080",
    "sa-east-1": "763104351884", "us-east-1": "763104351884", "us-east-2": "763104351884",
    "us-gov-west-1": "442386744353", "us-west-1": "763104351884", "us-west-2": "763104351884",
}


@dataclass(frozen=True)
class _Family:
    accounts: Mapping[str, str]
    version_pattern: str
    example: str


#: Versions: XGBoost ``<major.minor>-<build>`` (``1.7-1``), scikit-learn ``1.2-1``; PyTorch and
#: TensorFlow ``2.1.0``; Hugging Face the full tag of the DLC
#: (``2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04``).
ALGORITHMS: Mapping[str, _Family] = {
    "xgboost": _Family(FIRST_PARTY_ACCOUNTS, r"\d+\.\d+-\d+", "1.7-1"),
    "sklearn": _Family(FIRST_PARTY_ACCOUNTS, r"\d+\.\d+-\d+", "1.2-1"),
    "pytorch": _Family(DLC_ACCOUNTS, r"\d+\.\d+\.\d+", "2.1.0"),
    "tensorflow": _Family(DLC_ACCOUNTS, r"\d+\.\d+\.\d+", "2.13.0"),
    "huggingface": _Family(DLC_ACCOUNTS, r"\d+\.\d+\.\d+-transformers\d+\.\d+\.\d+-(cpu|gpu)-py\d+[A-Za-z0-9._-]*",
                           "2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04"),
}
ALIASES = {"scikit-learn": "sklearn", "hugging-face": "huggingface", "torch": "pytorch"}
SCOPES = ("training", "inference")
PROCESSORS = ("cpu", "gpu")


def builtin_image_reference(algorithm: str, version: str, *, scope: str = "training", processor: str = "cpu",
                            py_version: str | None = None) -> tuple[Mapping[str, str], str]:
    """``(accounts by region, "<repository>:<tag>")`` of a first-party image."""
    where = "ContainerImage.for_builtin_algorithm"
    name = ALIASES.get(algorithm, algorithm)
    check_choice(where, "algorithm", algorithm, [*ALGORITHMS, *ALIASES])
    family = ALGORITHMS[name]
    if not isinstance(version, str) or not re.fullmatch(family.version_pattern, version):
        raise ValidationError(where, "version", version, f"a {name} version such as {family.example}")
    check_choice(where, "scope", scope, SCOPES)
    check_choice(where, "processor", processor, PROCESSORS)
    if py_version is not None and not re.fullmatch(r"py\d{1,3}", py_version):
        raise ValidationError(where, "py_version", py_version, "py3, py39, py310, ...")
    if name == "xgboost":
        # The algorithm image serves training and inference, CPU and GPU alike.
        return family.accounts, f"sagemaker-xgboost:{version}"
    if name == "sklearn":
        if processor != "cpu":
            raise ValidationError(where, "processor", processor, "cpu (scikit-learn images are CPU only)")
        return family.accounts, f"sagemaker-scikit-learn:{version}-cpu-{py_version or 'py3'}"
    if name == "huggingface":
        device = "gpu" if "-gpu-" in version else "cpu"
        if processor != device and processor != "cpu":
            raise ValidationError(where, "processor", processor, f"the tag's processor ({device})")
        return family.accounts, f"huggingface-pytorch-{scope}:{version}"
    framework = "pytorch" if name == "pytorch" else "tensorflow"
    if py_version is None and not (name == "tensorflow" and scope == "inference"):
        raise ValidationError(where, "py_version", None, f"required for {name} {scope} images (e.g. py310)")
    tag = f"{version}-{processor}" + ("" if name == "tensorflow" and scope == "inference" else f"-{py_version}")
    return family.accounts, f"{framework}-{scope}:{tag}"


def builtin_image(algorithm: str, version: str, region: str | None = None, *, scope: str = "training",
                  processor: str = "cpu", py_version: str | None = None) -> "ContainerImage":
    """See :meth:`ContainerImage.for_builtin_algorithm`."""
    from .models import ContainerImage

    accounts, repository = builtin_image_reference(algorithm, version, scope=scope, processor=processor,
                                                   py_version=py_version)
    if region is None:
        return ContainerImage.from_regional_registry(accounts, repository)
    if region not in accounts:
        raise ValidationError("ContainerImage.for_builtin_algorithm", "region", region,
                              f"a region with {algorithm} images ({', '.join(sorted(accounts))})")
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return ContainerImage.from_uri(f"{accounts[region]}.dkr.ecr.{region}.{suffix}/{repository}")
