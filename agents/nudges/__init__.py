"""Proactive nudges: tell the customer about their parcel before they have to ask."""
