"""Devices: the registry of device names, device objects resolved once, and IBM Quantum (:mod:`.ibm`)."""
from .ibm import IBMCredentialsError, fake_backend, list_fake_backends
from .registry import (
    DEFAULT_SHOTS,
    DEVICES,
    DeviceInfo,
    ResolvedDevice,
    canonical_name,
    check_device_options,
    check_shots,
    diff_method_for,
    effective_shots,
    is_analytic,
    make_device,
    resolve_device,
)

__all__ = [
    "DEFAULT_SHOTS", "DEVICES", "DeviceInfo", "IBMCredentialsError", "ResolvedDevice", "canonical_name",
    "check_device_options", "check_shots", "diff_method_for", "effective_shots", "fake_backend", "is_analytic",
    "list_fake_backends", "make_device", "resolve_device",
]
