"""The package tier: the wheel built and installed in a fresh virtualenv with a consumer program
(``PACKAGE_TEST=1``)."""
