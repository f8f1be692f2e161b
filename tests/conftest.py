pytest_plugins = ["tests.sandbox_fixtures"]
