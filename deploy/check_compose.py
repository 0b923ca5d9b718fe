"""Check docker-compose.yml against the Compose specification's JSON schema.

The schema is the one Docker ships in the docker-compose package (compose/config/
compose_spec.json), fetched from PyPI once into ~/.cache/unilife and not vendored here.
Needs PyYAML and jsonschema (pip install pyyaml jsonschema).

    python3 deploy/check_compose.py [docker-compose.yml]
"""
import io
import json
import pathlib
import subprocess
import sys
import zipfile

import jsonschema
import yaml

CACHE = pathlib.Path.home() / ".cache" / "unilife"
WHEEL_SPEC = "docker-compose==1.29.2"


def schema() -> dict:
    target = CACHE / "compose_spec.json"
    if not target.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", WHEEL_SPEC, "--no-deps", "-q", "-d", str(CACHE)],
            check=True,
        )
        wheel = next(CACHE.glob("docker_compose-*.whl"))
        with zipfile.ZipFile(wheel) as z:
            target.write_bytes(z.read("compose/config/compose_spec.json"))
    return json.loads(target.read_text())


def main() -> int:
    path = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "docker-compose.yml")
    doc = yaml.safe_load(path.read_text())
    validator = jsonschema.Draft7Validator(schema())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    for e in errors:
        print(f"{path}: {'/'.join(map(str, e.path)) or '(top)'}: {e.message}", file=sys.stderr)
    if errors:
        return 1
    # What the schema cannot say: only the gateway publishes a port, every service has a
    # health check, data lives in named volumes.
    services = doc["services"]
    problems = []
    for name, svc in services.items():
        if name != "gateway" and any(":" in str(p) and not str(p).startswith("127.0.0.1:") for p in svc.get("ports", [])):
            problems.append(f"{name} publishes a port to all interfaces")
        if name not in ("jaeger",) and "healthcheck" not in svc:
            problems.append(f"{name} has no health check")
        for v in svc.get("volumes", []):
            source = str(v).split(":")[0]
            if source.startswith((".", "/")):
                problems.append(f"{name} mounts a host path {source}; use a named volume")
    for p in problems:
        print(f"{path}: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"{path}: valid against the Compose schema; ports, health checks and volumes as intended")
    return 0


if __name__ == "__main__":
    sys.exit(main())
