"""Composing the Hydra training config and the resolvers that fit it to the machine."""
