"""Context Encoder (Pathak et al., CVPR 2016): networks, masks, losses, training and inference."""

from model.networks import ChannelWiseFC, Discriminator, Generator

__all__ = ["ChannelWiseFC", "Discriminator", "Generator"]
