"""Kept for today's imports (``components.core.images``): the default images and the moving-tag rule live in
``components/settings/images.py``, below the core, since the settings' defaults and rules need them."""

from ..settings.images import (
    BRANCH_TAGS,
    DEFAULT_IMAGES,
    HAPROXY_IMAGE,
    OPEN_WEBUI_IMAGE,
    OPEN_WEBUI_VERSION,
    POSTGRES_IMAGE,
    VALKEY_IMAGE,
    moving_image_problems,
    moving_tag,
    rolls_side_by_side,
)

__all__ = [
    "BRANCH_TAGS",
    "DEFAULT_IMAGES",
    "HAPROXY_IMAGE",
    "OPEN_WEBUI_IMAGE",
    "OPEN_WEBUI_VERSION",
    "POSTGRES_IMAGE",
    "VALKEY_IMAGE",
    "moving_image_problems",
    "moving_tag",
    "rolls_side_by_side",
]
