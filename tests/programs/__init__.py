"""Small Pulumi programs that the tests render under mocks (``components.testing.render(program=...)``)."""
