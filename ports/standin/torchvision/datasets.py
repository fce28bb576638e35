"""MNIST and FashionMNIST from chainrule's offline copies. PORTS_SUBSET=N keeps the
first N training images (and N // 6 test images) so that a port runs in seconds."""
from __future__ import annotations

import os

import torch

from chainrule.data.datasets import load_source


class _Offline:
    """torchvision's (image, label) dataset: `transform` gets an (H, W) uint8 array;
    `.data` (uint8 images) and `.targets` are tensors, also under their old names."""

    source = ""

    def __init__(self, root=None, train=True, download=False, transform=None,
                 target_transform=None):
        images, labels = getattr(load_source(self.source), "train" if train else "test")
        keep = int(os.environ.get("PORTS_SUBSET", "0")) or len(labels)
        keep = keep if train else max(1, keep // 6)
        self._images, self._labels = images[:keep, 0], labels[:keep]
        self.data = torch.tensor(self._images)
        self.targets = torch.tensor(self._labels)
        self.train_data = self.test_data = self.data
        self.train_labels = self.test_labels = self.targets
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self._labels)

    def __getitem__(self, index):
        image, label = self._images[index], int(self._labels[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label


class MNIST(_Offline):
    source = "mnist"


class FashionMNIST(_Offline):
    source = "fashion-mnist"
