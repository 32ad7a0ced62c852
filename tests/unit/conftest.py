"""The library under Pulumi's mocks: what each configuration declares, refuses and keeps secret. Default run; no fixture
beyond pytest's."""
