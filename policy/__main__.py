"""The open-webui-redis policy pack: `pulumi preview --policy-pack policy` runs this (it starts a server)."""

from pulumi_policy import EnforcementLevel, PolicyPack
from rules import PACK_NAME, POLICIES, keep_secret_markers

keep_secret_markers()  # before the server starts: rules must see which inputs are secrets (see rules.py)
PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
