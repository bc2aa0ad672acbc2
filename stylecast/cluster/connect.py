"""Joining (or starting) a Ray cluster for ``--ray local|auto|HOST:PORT``."""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from stylecast.errors import StylecastError


@dataclass(frozen=True)
class ClusterConfig:
    address: str  # local | auto | HOST:PORT
    segment_seconds: float = 10.0
    retries: int = 3  # attempts after the first for a segment whose worker died
    local_cpus: int | None = None  # --ray local: worker slots (default: every core)


def ray_module():
    try:
        import ray
    except ImportError as e:
        raise StylecastError("--ray needs Ray: pip install 'stylecast[cluster]'") from e
    return ray


REACH_TIMEOUT_S = 5.0


def _head(address: str, given_as: str) -> tuple[str, int] | None:
    """HOST and PORT of a head's ``HOST:PORT`` (``[::1]:6379``, ``ray://HOST:PORT`` too); None for any other form."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or "://" in host or not port.isdigit():
        return None
    if not 1 <= int(port) <= 65535:  # Ray would retry such an address for minutes
        raise StylecastError(f"{given_as} {address!r}: a port is 1 to 65535, not {port}")
    return host, int(port)


def _check_reachable(address: str, given_as: str) -> None:
    """Fail in seconds where nothing listens at a head's HOST:PORT: Ray itself retries for minutes.
    Other forms (a ``ray://`` client address) are left to Ray."""
    head = None if address.startswith("ray://") else _head(address, given_as)
    if head is None:
        return
    host, port = head
    try:
        with socket.create_connection((host.strip("[]"), port), timeout=REACH_TIMEOUT_S):
            pass
    except OSError as e:
        reason = "timed out" if isinstance(e, TimeoutError) else (e.strerror or type(e).__name__)
        raise StylecastError(f"cannot reach a Ray cluster's head at {host}:{port} ({reason}): start it there with "
                             f"'ray start --head --port {port}', or give --ray local") from e


def connect(cluster: ClusterConfig):
    """Start or join the cluster; returns the ray module."""
    ray = ray_module()
    common = {"include_dashboard": False, "log_to_driver": False, "logging_level": "error"}
    address = cluster.address
    try:
        if address == "local":
            ray.init(address="local", num_cpus=cluster.local_cpus, **common)
        elif address == "auto":
            if not os.environ.get("RAY_ADDRESS"):
                raise StylecastError("--ray auto joins the cluster in RAY_ADDRESS, which is not set: "
                                     "export RAY_ADDRESS=HOST:PORT, or give --ray HOST:PORT, or --ray local")
            _check_reachable(os.environ["RAY_ADDRESS"], "RAY_ADDRESS")
            ray.init(address="auto", **common)
        else:
            if _head(address, "--ray") is None:
                raise StylecastError(f"--ray {address!r}: give local, auto or HOST:PORT of the cluster's head")
            _check_reachable(address, "--ray")
            ray.init(address=address, **common)
    except (ConnectionError, RuntimeError) as e:
        raise StylecastError(f"cannot join the Ray cluster at {address}: {str(e).splitlines()[0][:200]}") from e
    except ValueError as e:  # Ray's word on an address it cannot parse (RAY_ADDRESS=garbage), or a missing client
        if "ray[client]" in str(e):
            raise StylecastError(f"--ray {address}: a ray:// address needs Ray's client: pip install 'ray[client]' "
                                 "(or give the head's HOST:PORT)") from e
        shown = os.environ.get("RAY_ADDRESS", "") if address == "auto" else address
        raise StylecastError(f"cannot join the Ray cluster at {shown!r}: {str(e).splitlines()[0][:200]}") from e
    return ray
