from tests.fortnox_fixtures import *  # noqa: F403 - the shared Fortnox fixtures
