from tests.unit.services_fixtures import deps, fake_twilio  # noqa: F401 (fixtures)
