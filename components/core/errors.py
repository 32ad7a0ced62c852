"""The one error type for a deployment that is refused: ``ConfigurationError``.

Whatever refuses a configuration raises it (the settings, the stacks, the components, the multi-language package's
``InvalidArgumentsError``), each problem one line (most written by ``components/rules.py``). It is a
``pulumi.RunError``, which Pulumi prints without a Python traceback. A component's or stack's arguments refused
as it is built raise ``ArgumentError``, a ``ConfigurationError`` that is also the ``ValueError`` they raised before.
A value refused once it resolves (inside an Output) must not be a ``ValueError``: Pulumi's serializer wraps every
``ValueError`` raised there in its own ("While processing input ...") and the user reads a traceback instead of
the problems. Apart from ``config.py`` so that any module of the core may raise it (``config.py`` imports most of
them)."""

from __future__ import annotations

import pulumi

PROJECT = "open-webui-redis"


class ConfigurationError(pulumi.RunError):
    """Stack configuration (or a component's arguments) that cannot be deployed; the message lists every problem.
    ``resolved``: found in an Input's value once it resolved (``core/inputs.py``), when other resources may already
    be declared. ``subject`` and ``outcome``: the message's heading for another caller (``hosted.py``'s arguments)."""

    def __init__(
        self,
        problems: list[str],
        *,
        resolved: bool = False,
        subject: str | None = None,
        outcome: str | None = None,
    ) -> None:
        self.problems = problems
        self.resolved = resolved
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        if subject is None:
            subject = f"Invalid {'input' if resolved else 'configuration'} for project {PROJECT!r}"
        if outcome is None:
            outcome = "what needs it was not deployed" if resolved else "nothing was deployed"
        super().__init__(f"{subject} ({count}); {outcome}:\n" + "\n".join(f"  - {problem}" for problem in problems))


class ArgumentError(ConfigurationError, ValueError):
    """Arguments a component or stack refuses as it is built (never inside an Output: see the module's doc), also a
    ``ValueError`` as before ``ConfigurationError`` covered them."""
