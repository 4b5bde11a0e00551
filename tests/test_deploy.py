"""The container files (#19): the Dockerfile and compose.yaml parse and refer to real
things — ``loupe`` commands and their options, settings, the health route, extras. The
image itself is built only where a container runtime answers (``docker info``)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import make_url

from loupe.cli.core import COMMANDS, load
from loupe.settings import Settings
from loupe.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {f"LOUPE_{name.upper()}" for name in Settings.model_fields}
HEALTH_URL = re.compile(r"https?://(?:127\.0\.0\.1|localhost):(\d+)(/[\w/.-]*)")


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def parse_dockerfile(text: str) -> list[list[Instruction]]:
    """Instructions per build stage: comments dropped, ``\\`` continuations joined."""
    stages: list[list[Instruction]] = []
    preamble: list[Instruction] = []
    logical = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not logical and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        keyword, _, args = logical.partition(" ")
        instruction = Instruction(keyword.upper(), args.strip())
        logical = ""
        if instruction.keyword == "FROM":
            stages.append([instruction])
        else:
            (stages[-1] if stages else preamble).append(instruction)
    assert not logical, "the Dockerfile ends inside a continued line"
    return [preamble, *stages]


def _stages() -> tuple[list[Instruction], dict[str, list[Instruction]]]:
    preamble, *stages = parse_dockerfile((ROOT / "Dockerfile").read_text())
    named = {}
    for stage in stages:
        words = stage[0].args.split()
        assert len(words) == 3 and words[1].upper() == "AS", stage[0]
        named[words[2]] = stage
    return preamble, named


def _one(stage: list[Instruction], keyword: str) -> Instruction:
    found = [instruction for instruction in stage if instruction.keyword == keyword]
    assert len(found) == 1, f"{keyword}: {found}"
    return found[0]


def _env(stage: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction in stage:
        if instruction.keyword == "ENV":
            for pair in shlex.split(instruction.args):
                name, _, value = pair.partition("=")
                env[name] = value
    return env


def _loupe_calls(script: str) -> list[list[str]]:
    """Each ``loupe ...`` command line in a shell script (split on && ; |)."""
    calls = []
    for part in re.split(r"&&|;|\|\|?", script):
        words = shlex.split(part)
        if words and words[0] == "exec":
            words = words[1:]
        if words and words[0] == "loupe":
            calls.append(words[1:])
    return calls


def _check_loupe_call(argv: list[str]) -> None:
    """``argv`` names a real top-level command, and every option it passes exists."""
    name, *rest = argv
    assert name in COMMANDS, f"`loupe {name}` is not a command"
    command = load(name)
    assert command is not None
    options = {opt for param in command.params for opt in getattr(param, "opts", [])}
    for word in rest:
        if word.startswith("--"):
            assert word.split("=")[0] in options, f"`loupe {name}` has no option {word}"


def _get_paths() -> set[str]:
    """The paths the app answers GET on (create_app opens nothing until start-up)."""
    app = create_app(Settings(database_url="sqlite:///:memory:"))
    return {path for path, ops in app.openapi()["paths"].items() if "get" in ops}


def test_the_image_is_built_in_stages_and_runs_as_a_user() -> None:
    preamble, stages = _stages()
    assert list(stages) == ["builder", "runtime"]  # the last stage is the image
    args = dict(
        instruction.args.split("=", 1) for instruction in preamble if instruction.keyword == "ARG"
    )
    for stage in stages.values():
        image = stage[0].args.split()[0]
        assert image == "${PYTHON_IMAGE}" and args["PYTHON_IMAGE"] == "python:3.11-slim"
    runtime = stages["runtime"]
    user = _one(runtime, "USER").args.split(":")[0]
    assert user not in {"root", "0"}
    assert any(
        instruction.keyword == "RUN"
        and f"useradd --system --uid 10001 --gid {user}" in instruction.args
        for instruction in runtime
    ), "the USER must be created in the runtime stage"
    # No compiler or sources in the runtime stage: it installs the builder's wheels only.
    assert not any(instruction.keyword == "COPY" for instruction in runtime)
    assert any("--no-index --find-links /wheels" in i.args for i in runtime if i.keyword == "RUN")


def test_the_build_reads_only_files_that_exist_and_extras_that_exist() -> None:
    _, stages = _stages()
    ignore = (ROOT / ".dockerignore").read_text().split()
    assert ignore[ignore.index("*") :][:1] == ["*"]  # everything is excluded, then let in
    for instruction in stages["builder"]:
        if instruction.keyword == "COPY":
            *sources, _ = instruction.args.split()
            for source in sources:
                assert (ROOT / source).exists(), source
                assert f"!{source.rstrip('/')}" in {line.rstrip("/") for line in ignore}, source
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    for stage in stages.values():
        for instruction in stage:
            if instruction.keyword == "ARG" and instruction.args.startswith("EXTRAS="):
                for extra in instruction.args.removeprefix("EXTRAS=").split(","):
                    assert extra in extras, extra


def test_the_image_runs_real_commands_with_real_settings() -> None:
    _, stages = _stages()
    runtime = stages["runtime"]
    cmd = json.loads(_one(runtime, "CMD").args)
    assert cmd[:2] == ["sh", "-c"]
    calls = _loupe_calls(cmd[2])
    assert [call[0] for call in calls] == ["init", "serve"]
    for call in calls:
        _check_loupe_call(call)
    serve = calls[-1]
    assert serve[serve.index("--host") + 1] == "0.0.0.0"
    assert serve[serve.index("--workers") + 1] == "${WEB_CONCURRENCY}"
    env = _env(runtime)
    assert {name for name in env if name.startswith("LOUPE_")} <= SETTINGS
    settings = Settings.model_validate(
        {name.removeprefix("LOUPE_").lower(): v for name, v in env.items() if name in SETTINGS}
    )
    volumes = json.loads(_one(runtime, "VOLUME").args)
    assert str(settings.resolved_key_dir()) in volumes  # the keys outlive the container
    assert str(make_url(settings.database_url).database).startswith(tuple(volumes))


def test_the_health_check_calls_the_health_route() -> None:
    _, stages = _stages()
    check = json.loads(_one(stages["runtime"], "HEALTHCHECK").args.split(" CMD ", 1)[1])
    match = HEALTH_URL.search(" ".join(check))
    assert match is not None, check
    port, path = match.groups()
    assert path in _get_paths()
    assert path == "/api/v1/health"
    assert _one(stages["runtime"], "EXPOSE").args == port
    assert f"--port {port}" in _one(stages["runtime"], "CMD").args


def test_compose_runs_loupe_on_a_healthy_postgres() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    postgres, loupe = services["postgres"], services["loupe"]
    assert postgres["image"].split(":")[0] == "postgres"  # the official image
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert loupe["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert loupe["build"] == "."

    env = loupe["environment"]
    assert {name for name in env if name.startswith("LOUPE_")} <= SETTINGS
    url = make_url(re.sub(r"\$\{[^}]*\}", "secret", env["LOUPE_DATABASE_URL"]))
    assert url.drivername == "postgresql+psycopg"  # the driver of the image's postgres extra
    assert url.host == "postgres" and url.database == postgres["environment"]["POSTGRES_DB"]
    assert url.username == postgres["environment"]["POSTGRES_USER"]

    # The keys (and models) live on named volumes, declared at the top level.
    mounts = dict(volume.split(":", 1) for volume in loupe["volumes"])
    assert mounts.get("loupe-keys") == env["LOUPE_KEY_DIR"]
    assert env["LOUPE_MODEL_DIR"].startswith(tuple(mounts.values()))
    assert set(mounts) | {"postgres-data"} == set(compose["volumes"])
    assert any(v.startswith("postgres-data:") for v in postgres["volumes"])
    assert all(port.endswith(":8000") for port in loupe["ports"])


def _documented_calls(markdown: str) -> list[tuple[str, str | None]]:
    """``(command, next word)`` for each ``loupe ...`` in the code of a Markdown page."""
    code = "\n".join(
        re.findall(r"```[^\n]*\n(.*?)```", markdown, re.S) + re.findall(r"`([^`\n]+)`", markdown)
    )
    code = re.sub(r"docker compose \w+(?: -\w+)* loupe\b", " ", code)  # the service name
    return re.findall(r"(?<![\w/.-])loupe ([a-z][\w-]*)(?: ([a-z][\w-]*))?", code)


def test_the_deploy_guide_is_linked_and_names_real_commands() -> None:
    assert "docs/deploy.md" in (ROOT / "README.md").read_text()
    calls = _documented_calls((ROOT / "docs" / "deploy.md").read_text())
    assert ("keys", "rotate") in calls and ("users", "password") in calls
    for name, word in calls:
        assert name in COMMANDS, f"`loupe {name}` in docs/deploy.md"
        command = load(name)
        subcommands = getattr(command, "commands", None)
        if subcommands is not None and word:  # a group: the next word is one of its commands
            assert word in subcommands, f"`loupe {name} {word}` in docs/deploy.md"


def test_a_misspelt_command_in_the_guide_would_be_caught() -> None:
    calls = _documented_calls(
        "run `loupe keys rotat` or\n```\ndocker compose exec -T loupe loupe serv\n```"
    )
    assert ("keys", "rotat") in calls and ("serv", "") in calls


def _runtime_answers() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return "no container runtime (docker) on this machine"
    info = subprocess.run([docker, "info"], capture_output=True, check=False)
    if info.returncode != 0:
        return "the docker client is here but no daemon answers `docker info`"
    return None


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_image_builds_and_its_cli_runs() -> None:
    reason = _runtime_answers()
    if reason is not None:
        pytest.skip(reason)
    tag = "loupe:test-deploy"
    build = subprocess.run(
        ["docker", "build", "-t", tag, str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
        env={**__import__("os").environ, "DOCKER_BUILDKIT": "1"},
    )
    assert build.returncode == 0, build.stderr[-4000:]
    try:
        whoami = subprocess.run(
            ["docker", "run", "--rm", tag, "sh", "-c", "id -u && loupe --help"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert whoami.returncode == 0, whoami.stderr
        uid, _, help_text = whoami.stdout.partition("\n")
        assert uid.strip() != "0" and "serve" in help_text
    finally:
        subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True, check=False)
