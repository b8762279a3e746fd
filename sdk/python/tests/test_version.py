from __future__ import annotations

import importlib.metadata
from pathlib import Path

import izin
from fakes import FakeServer

SDK_VERSION = (Path(__file__).resolve().parents[2] / "VERSION").read_text(encoding="utf-8").strip()


def test_version_is_sdk_version() -> None:
    assert izin.__version__ == SDK_VERSION


def test_installed_distribution_has_sdk_version() -> None:
    assert importlib.metadata.version("izin-sdk") == SDK_VERSION


def test_user_agent_names_the_version(client: izin.Client, server: FakeServer) -> None:
    client.check("+905321234567")
    agent = server.rec.calls_to("CheckConsent")[0].metadata["user-agent"]
    assert agent.startswith(f"izin-python/{SDK_VERSION} ")


def test_tests_run_against_the_installed_package() -> None:
    import os

    import pytest

    if not os.environ.get("IZIN_EXPECT_INSTALLED"):
        pytest.skip("set by test.sh, which installs the built wheel")
    assert "site-packages" in str(Path(izin.__file__).resolve()), izin.__file__
    # The generated stubs and the typing marker are shipped.
    pkg = Path(izin.__file__).parent
    assert (pkg / "py.typed").is_file()
    assert (pkg / "_gen" / "izin" / "v1" / "consent_service_pb2.pyi").is_file()
