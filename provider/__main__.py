"""The open-webui-redis component plugin: hosts components/hosted.py for programs in any Pulumi language.

Pulumi runs this directory (``python provider/``), so the plugin lives beside the stack program's own
``__main__.py`` rather than replacing it. Consumers add it with ``pulumi package add`` (see README.md).
"""

import sys
from pathlib import Path

# The components are in the same checkout, one level up (Pulumi clones the whole repository and runs this
# subdirectory); they are not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi.provider.experimental import component_provider_host

from components import __version__
from components.hosted import COMPONENTS, PACKAGE

if __name__ == "__main__":
    # The schema's version is the package's: the SDKs `pulumi package add` generates carry it.
    component_provider_host(components=list(COMPONENTS), name=PACKAGE, version=__version__)
