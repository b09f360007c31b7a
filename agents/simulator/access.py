"""Tenant-scoped lookups for the simulator. Outside the tenant → 404; role too low → 403."""

from __future__ import annotations

import uuid

from django.http import Http404

from agents.simulator.models import Simulation
from tenants.access import get_tenant_for_member
from tenants.models import Membership, Tenant, User
from tenants.roles import Permission


def get_simulator_tenant_for_member(user: User, slug: str) -> tuple[Tenant, Membership]:
    """The tenant whose onboarding ``user`` runs (account managers and admins)."""
    return get_tenant_for_member(user, slug, Permission.MANAGE_TENANT)


def get_simulation_for_member(
    user: User, slug: str, simulation_id: str
) -> tuple[Tenant, Simulation]:
    """A simulation of the tenant by public id; 404 for another tenant's."""
    tenant, _ = get_simulator_tenant_for_member(user, slug)
    try:
        public_id = uuid.UUID(simulation_id)
    except ValueError as exc:
        raise Http404("No such simulation") from exc
    simulation = Simulation.objects.filter(tenant=tenant, public_id=public_id).first()
    if simulation is None:
        raise Http404("No such simulation")
    return tenant, simulation
