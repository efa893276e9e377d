"""Deploy tier: the generated CloudFormation, `chalice package` + cfn-lint on the result, and
the data stack deployed into moto's CloudFormation.

`chalice package` runs once per stage per session (it builds the dependency layer from wheels
for Lambda's platform; Chalice caches the layer under .chalice/deployments/, so later runs take
seconds). It runs with canary secret values in its environment, so the tests can prove no
secret value reaches the template or the zips. Where PyPI is unreachable and nothing is cached,
the packaging tests are skipped with a message saying so."""

from __future__ import annotations

import socket

import pytest

CANARY_API_TOKEN = "canary-api-token-7d1f0c9e"
CANARY_TWILIO_TOKEN = "canary-twilio-token-52ab19f3"


def pypi_reachable() -> bool:
    for host in ("pypi.org", "files.pythonhosted.org"):
        try:
            socket.create_connection((host, 443), timeout=3).close()
        except OSError:
            return False
    return True


@pytest.fixture(scope="session")
def package_stage(tmp_path_factory: pytest.TempPathFactory):
    """`package_stage("prod")` -> infra.build.Package, built once per session."""
    from infra.build import PackagingError, chalice_package, write_templates
    from infra.template import load_stage

    built: dict[str, object] = {}

    def get(stage: str):
        if stage not in built:
            cfg = load_stage(stage)
            pkg = write_templates(cfg, tmp_path_factory.mktemp(f"package-{stage}"))
            try:
                chalice_package(
                    cfg,
                    pkg,
                    region="us-east-1",
                    env={
                        "API_TOKEN": CANARY_API_TOKEN,
                        "TWILIO_AUTH_TOKEN": CANARY_TWILIO_TOKEN,
                        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
                    },
                )
            except PackagingError as exc:
                if not pypi_reachable():
                    pytest.skip(
                        "PyPI is unreachable and no packaged layer is cached: chalice package "
                        f"cannot fetch Lambda wheels, packaging tests skipped ({exc})"
                    )
                raise
            built[stage] = pkg
        return built[stage]

    return get


@pytest.fixture(scope="session")
def prod_package(package_stage):
    return package_stage("prod")


@pytest.fixture
def session(aws: None):
    """A boto3 session inside moto (the `aws` fixture of tests/conftest.py)."""
    import boto3

    return boto3.Session(region_name="us-east-1")
