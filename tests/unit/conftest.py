from tests.unit.services_fixtures import deps, fake_twilio, idp  # noqa: F401 (fixtures)
