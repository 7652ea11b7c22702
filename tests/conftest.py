"""The suite's fixtures live in ``tests/fixtures/`` modules, loaded here as plugins (as Indico
does): the app on SQLite (always) and PostgreSQL (when TEST_DATABASE_URL is set), a client, a
CLI runner, ``create_*`` factories that build just what a test needs, a live server and a
browser, and the CI rule that a skip for a missing tool is a failure."""

pytest_plugins = [
    "tests.fixtures.app",
    "tests.fixtures.factories",
    "tests.fixtures.browser",
    "tests.fixtures.ci",
    "tests.fixtures.sms_providers",
    "tests.fixtures.report_counts",
]


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: slow tests (servers, browsers, load)")
    config.addinivalue_line("markers", "browser: needs Debian's Chromium and a CJK font")
