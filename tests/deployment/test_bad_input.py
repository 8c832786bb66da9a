"""Bad service material is refused with an error naming the file and what is
wrong (missing field, dependency cycle, template error), and nothing starts."""
import os

import pytest
from django.core.management import CommandError, call_command

ONLY_TEST_GROUP = "groups: [shop]\n"


def service_yml(name, depends_on=(), group="shop", extra=""):
    return f"""\
        name: {name}
        group: {group}
        image: shop-{name}:1
        depends_on: [{', '.join(depends_on)}]
        health: {{tcp: 9000}}
        restart: {{policy: on-failure, max_restarts: 3}}
        {extra}"""


def deploy(*args):
    with pytest.raises(CommandError) as raised:
        call_command("deploy", *args)
    return str(raised.value)


def test_a_missing_field_is_named(db, app_services):
    app_services.environment("shop", ONLY_TEST_GROUP)
    path = app_services.service("shop/cart", "name: cart\ngroup: shop\nimage: cart:1\nrestart: always\n")
    message = deploy("render", "--env", "shop")
    assert message == f"{path / 'service.yml'}: missing required field 'health'"


def test_a_bad_field_value_is_named(db, app_services):
    app_services.environment("shop", ONLY_TEST_GROUP)
    path = app_services.service("shop/cart", service_yml("cart").replace("on-failure", "sometimes"))
    assert deploy("render", "--env", "shop") == (
        f"{path / 'service.yml'}: field 'restart.policy': 'sometimes' is not one of always, on-failure, no"
    )


def test_a_dependency_cycle_is_named(db, app_services):
    app_services.environment("shop", ONLY_TEST_GROUP)
    app_services.service("shop/cart", service_yml("cart", ["stock"]))
    app_services.service("shop/stock", service_yml("stock", ["pricing"]))
    app_services.service("shop/pricing", service_yml("pricing", ["cart"]))
    assert "dependency cycle: cart -> stock -> pricing -> cart" in deploy("render", "shop")


def test_an_unknown_dependency_is_named(db, app_services):
    app_services.environment("shop", ONLY_TEST_GROUP)
    path = app_services.service("shop/cart", service_yml("cart", ["stok"]))
    assert f"{path / 'service.yml'}: field 'depends_on': 'stok' is not a service" in deploy("render", "shop")


def test_an_undefined_template_variable_names_the_template_and_line(db, app_services):
    app_services.environment("shop", ONLY_TEST_GROUP)
    path = app_services.service(
        "shop/cart", service_yml("cart"),
        compose_yml_j2="environment:\n  A: \"1\"\n  B: {{ values.cart_colour }}\n",
    )
    message = deploy("render", "shop")
    assert message.startswith(f"{path / 'compose.yml.j2'}: line 3: template error:")
    assert "cart_colour" in message


def test_a_template_syntax_error_names_the_template_and_line(db, app_services):
    app_services.environment("shop", ONLY_TEST_GROUP)
    path = app_services.service("shop/cart", service_yml("cart"), compose_yml_j2="command: [\"x\"]\n{% if %}\n")
    assert deploy("render", "shop").startswith(f"{path / 'compose.yml.j2'}: line 2: template error:")


def test_a_template_may_not_set_what_the_service_file_decides(db, app_services):
    app_services.environment("shop", ONLY_TEST_GROUP)
    path = app_services.service("shop/cart", service_yml("cart"), compose_yml_j2="ports: [\"0.0.0.0:80:80\"]\n")
    assert deploy("render", "shop").startswith(f"{path / 'compose.yml.j2'}: key 'ports' is not one a template may set")


def test_a_port_cannot_choose_its_own_bind_address(db, app_services):
    app_services.environment("shop", ONLY_TEST_GROUP)
    app_services.service("shop/cart", service_yml("cart", extra='ports: ["0.0.0.0:80:80"]'))
    assert "the bind address is 127.0.0.1 unless --expose" in deploy("render", "shop")


def test_an_unknown_environment_or_target_is_named(db, app_services):
    app_services.environment("shop", ONLY_TEST_GROUP)
    app_services.service("shop/cart", service_yml("cart"))
    assert deploy("render", "--env", "staging") == "no environment 'staging' (available: dev, production, shop)"
    assert "'basket' is neither a service nor a group of environment 'shop'" in deploy("render", "shop", "basket")


@pytest.mark.slow
def test_nothing_starts_from_bad_material(db, app_services, docker_engine, monkeypatch, settings):
    import docker

    monkeypatch.setenv("DOCKER_HOST", docker_engine)
    app_services.environment("shop", ONLY_TEST_GROUP)
    app_services.service("shop/cart", service_yml("cart", ["stock"]))  # a good service...
    app_services.service("shop/stock", service_yml("stock", ["cart"]))  # ...in a cycle
    assert "dependency cycle" in deploy("up", "shop")
    engine = docker.DockerClient(base_url=docker_engine)
    assert engine.containers.list(all=True, filters={"label": "org.abf.environment=shop"}) == []
    assert not os.path.exists(os.path.join(settings.ABF_DEPLOY_BUILD_DIR, "shop"))


def test_exit_codes_and_help(tmp_path):
    from tests.test_deployment_checks import manage

    env = {"ABF_VAR_DIR": str(tmp_path), "ABF_DEPLOY_BUILD_DIR": str(tmp_path / "build")}
    missing = manage("deploy", "render", "--env", "nowhere", env=env)
    assert missing.returncode == 1 and "CommandError: no environment 'nowhere'" in missing.stderr
    assert manage("deploy", env=env).returncode == 2
    help_text = manage("deploy", "status", "--help", env=env).stdout
    assert "--json" in help_text and "[ENVIRONMENT] GROUP|SERVICE" in help_text
