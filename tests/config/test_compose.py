"""docker-compose.yml as an operator runs it: the app's port is not reachable past the proxy in front of it."""

from pathlib import Path

import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def test_docker_compose_publishes_the_app_on_the_hosts_loopback_only():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    published = {name: service.get("ports", []) for name, service in services.items()}

    assert published["web"] == ["127.0.0.1:${PORT:-8000}:8000"]  # whoever could reach it directly forges the address
    assert all(not ports for name, ports in published.items() if name != "web")  # no database or Redis on the host


def test_docker_compose_passes_the_number_of_trusted_proxies_through_unset_by_default():
    environment = yaml.safe_load(COMPOSE.read_text())["x-app"]["environment"]

    assert environment["TRUSTED_PROXY_COUNT"] == "${TRUSTED_PROXY_COUNT:-}"  # so BEHIND_TLS_PROXY alone fails to start
